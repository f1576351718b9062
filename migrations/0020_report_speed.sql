DROP INDEX `ticket_groups_type_idx`;--> statement-breakpoint
CREATE INDEX `ticket_groups_type_idx` ON `ticket_groups` (`type_id`,`created`,`ticket_id`);