DROP TABLE `text_groups`;--> statement-breakpoint
DROP INDEX `ticket_groups_group_idx`;--> statement-breakpoint
DROP INDEX `ticket_groups_group_created_idx`;--> statement-breakpoint
DROP INDEX `ticket_groups_created_group_idx`;--> statement-breakpoint
ALTER TABLE `ticket_groups` DROP COLUMN `group_id`;