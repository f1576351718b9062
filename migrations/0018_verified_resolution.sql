CREATE TABLE `handler_mode_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`handler` text NOT NULL,
	`mode` text NOT NULL,
	`at` integer NOT NULL,
	`by` text NOT NULL,
	`reason` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `handler_mode_changes_handler_idx` ON `handler_mode_changes` (`handler`,`id`);--> statement-breakpoint
CREATE TABLE `run_verifications` (
	`run_id` integer PRIMARY KEY NOT NULL,
	`handler` text NOT NULL,
	`ticket_key` text NOT NULL,
	`ticket_row_id` text,
	`reporter` text,
	`resolved_status` text NOT NULL,
	`labels_added` text DEFAULT '[]' NOT NULL,
	`resolved_at` integer NOT NULL,
	`window_ends_at` integer NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`decided_at` integer,
	`evidence` text,
	`signal_delivery_id` integer,
	`feedback_invited` integer DEFAULT false NOT NULL,
	`feedback` text,
	`feedback_at` integer,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `run_verifications_ticket_state_idx` ON `run_verifications` (`ticket_key`,`state`);--> statement-breakpoint
CREATE INDEX `run_verifications_handler_resolved_idx` ON `run_verifications` (`handler`,`resolved_at`);--> statement-breakpoint
CREATE INDEX `run_verifications_reporter_state_idx` ON `run_verifications` (`reporter`,`state`);--> statement-breakpoint
ALTER TABLE `run_rule_settings` ADD `feedback` integer DEFAULT false NOT NULL;