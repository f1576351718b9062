CREATE TABLE `request_types` (
	`id` text PRIMARY KEY NOT NULL,
	`algorithm` text NOT NULL,
	`name` text NOT NULL,
	`key_words` text NOT NULL,
	`size` integer NOT NULL,
	`labels` text DEFAULT '[]' NOT NULL,
	`dominant_label` text,
	`example_keys` text DEFAULT '[]' NOT NULL,
	`computed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `request_variants` (
	`id` text PRIMARY KEY NOT NULL,
	`type_id` text NOT NULL,
	`algorithm` text NOT NULL,
	`template` text NOT NULL,
	`size` integer NOT NULL,
	`computed_at` integer NOT NULL,
	FOREIGN KEY (`type_id`) REFERENCES `request_types`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `request_variants_type_idx` ON `request_variants` (`type_id`);--> statement-breakpoint
ALTER TABLE `ticket_groups` ADD `type_id` text;--> statement-breakpoint
ALTER TABLE `ticket_groups` ADD `variant_id` text;--> statement-breakpoint
ALTER TABLE `ticket_groups` ADD `deciding_words` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `ticket_groups` ADD `nearest` text;--> statement-breakpoint
CREATE INDEX `ticket_groups_type_idx` ON `ticket_groups` (`type_id`,`created`);--> statement-breakpoint
CREATE INDEX `ticket_groups_variant_idx` ON `ticket_groups` (`variant_id`);--> statement-breakpoint
CREATE INDEX `ticket_groups_created_type_idx` ON `ticket_groups` (`created`,`type_id`);