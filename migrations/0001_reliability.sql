CREATE TABLE `handler_states` (
	`handler` text PRIMARY KEY NOT NULL,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`paused_at` integer,
	`paused_reason` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `runs` ADD `manual_retries` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `actions_ticket_created_idx` ON `actions` (`ticket_key`,`created_at`);