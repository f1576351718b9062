CREATE TABLE `approvals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer NOT NULL,
	`decision` text NOT NULL,
	`by` text,
	`at` integer NOT NULL,
	`comment_id` text,
	`delivery_id` integer,
	`reason` text,
	`expires_at` integer,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `approvals_run_id_idx` ON `approvals` (`run_id`,`id`);--> statement-breakpoint
CREATE INDEX `approvals_expires_at_idx` ON `approvals` (`expires_at`);--> statement-breakpoint
CREATE TABLE `run_rule_settings` (
	`run_id` integer PRIMARY KEY NOT NULL,
	`rule_name` text NOT NULL,
	`options` text DEFAULT '{}' NOT NULL,
	`approval` text,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE no action
);
