CREATE INDEX `run_rule_settings_rule_idx` ON `run_rule_settings` (`rule_name`,`run_id`);--> statement-breakpoint
CREATE INDEX `runs_created_id_idx` ON `runs` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_handler_created_idx` ON `runs` (`handler`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_status_created_idx` ON `runs` (`status`,`created_at`,`id`);