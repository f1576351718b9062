CREATE TABLE `slack_events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `slack_requests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`view_id` text NOT NULL,
	`team_id` text,
	`user_id` text NOT NULL,
	`channel_id` text,
	`rule_name` text NOT NULL,
	`handler` text NOT NULL,
	`ticket_key` text,
	`ticket_url` text,
	`status` text NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `slack_requests_view_id_unique` ON `slack_requests` (`view_id`);--> statement-breakpoint
CREATE INDEX `slack_requests_ticket_key_idx` ON `slack_requests` (`ticket_key`);