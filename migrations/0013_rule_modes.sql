ALTER TABLE `runs` ADD `shadow` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `rules_version` text;