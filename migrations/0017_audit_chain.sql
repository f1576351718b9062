CREATE TABLE `audit_chain` (
	`seq` integer PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`row_table` text NOT NULL,
	`row_id` integer NOT NULL,
	`run_id` integer NOT NULL,
	`row_hash` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	`sealed_at` integer NOT NULL,
	`sealed_by` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_chain_row_idx` ON `audit_chain` (`row_table`,`row_id`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_chain_run_idx` ON `audit_chain` (`run_id`,`seq`);--> statement-breakpoint
CREATE TABLE `audit_checkpoints` (
	`id` integer PRIMARY KEY NOT NULL,
	`first_seq` integer NOT NULL,
	`through_seq` integer NOT NULL,
	`from_hash` text NOT NULL,
	`through_hash` text NOT NULL,
	`runs` integer NOT NULL,
	`actions` integer NOT NULL,
	`entries` integer NOT NULL,
	`oldest_created_at` integer,
	`newest_created_at` integer,
	`archive` text,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
