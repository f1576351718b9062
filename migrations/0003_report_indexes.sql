ALTER TABLE `ticket_groups` ADD `created` integer;--> statement-breakpoint
CREATE INDEX `ticket_groups_group_created_idx` ON `ticket_groups` (`group_id`,`created`);--> statement-breakpoint
CREATE INDEX `tickets_recorded_at_idx` ON `tickets` (`recorded_at`);