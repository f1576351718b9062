CREATE TABLE `health_probe` (
	`id` integer PRIMARY KEY NOT NULL,
	`checked_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `deliveries` ADD `body_pruned_at` integer;--> statement-breakpoint
CREATE INDEX `deliveries_unpruned_received_idx` ON `deliveries` (`received_at`) WHERE body_pruned_at IS NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `owner` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `lease_expires_at` integer;--> statement-breakpoint
-- Runs left `running` by a process from before leases: their claim lasts one default lease (60 s) from when they
-- were claimed, then any process may requeue them.
UPDATE `runs` SET `lease_expires_at` = coalesce(`locked_at`, 0) + 60000 WHERE `status` = 'running';
