CREATE TABLE `import_checkpoints` (
	`source` text PRIMARY KEY NOT NULL,
	`cursor` text,
	`imported` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`status` text NOT NULL,
	`fingerprint` text,
	`started_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `text_groups` (
	`id` text PRIMARY KEY NOT NULL,
	`algorithm` text NOT NULL,
	`template` text NOT NULL,
	`signature` text NOT NULL,
	`size` integer NOT NULL,
	`computed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ticket_groups` (
	`ticket_id` text PRIMARY KEY NOT NULL,
	`group_id` text,
	`algorithm` text NOT NULL,
	`reason` text NOT NULL,
	`computed_at` integer NOT NULL,
	FOREIGN KEY (`ticket_id`) REFERENCES `tickets`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ticket_groups_group_idx` ON `ticket_groups` (`group_id`);