CREATE TABLE `actions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`kind` text NOT NULL,
	`ticket_key` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`request` text NOT NULL,
	`status` text NOT NULL,
	`response` text,
	`error` text,
	`created_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `actions_idempotency_key_unique` ON `actions` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `actions_run_id_idx` ON `actions` (`run_id`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`delivery_key` text NOT NULL,
	`webhook_identifier` text,
	`source` text DEFAULT 'jira' NOT NULL,
	`event` text NOT NULL,
	`issue_key` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`reason` text,
	`headers` text NOT NULL,
	`body` text NOT NULL,
	`event_timestamp` integer,
	`replay_of` integer,
	`received_at` integer NOT NULL,
	`routed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_delivery_key_unique` ON `deliveries` (`delivery_key`);--> statement-breakpoint
CREATE INDEX `deliveries_status_idx` ON `deliveries` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `deliveries_issue_key_idx` ON `deliveries` (`issue_key`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`delivery_id` integer NOT NULL,
	`ticket_key` text NOT NULL,
	`handler` text NOT NULL,
	`reason` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`dry_run` integer DEFAULT false NOT NULL,
	`idempotency_key` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`run_after` integer NOT NULL,
	`locked_at` integer,
	`started_at` integer,
	`finished_at` integer,
	`duration_ms` integer,
	`summary` text,
	`error` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runs_delivery_handler_unique` ON `runs` (`delivery_id`,`handler`);--> statement-breakpoint
CREATE UNIQUE INDEX `runs_idempotency_key_unique` ON `runs` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `runs_status_run_after_idx` ON `runs` (`status`,`run_after`);--> statement-breakpoint
CREATE INDEX `runs_ticket_key_idx` ON `runs` (`ticket_key`);--> statement-breakpoint
CREATE TABLE `ticket_labels` (
	`ticket_id` text NOT NULL,
	`label` text NOT NULL,
	`created` integer,
	FOREIGN KEY (`ticket_id`) REFERENCES `tickets`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ticket_labels_ticket_label_unique` ON `ticket_labels` (`ticket_id`,`label`);--> statement-breakpoint
CREATE INDEX `ticket_labels_label_created_idx` ON `ticket_labels` (`label`,`created`);--> statement-breakpoint
CREATE INDEX `ticket_labels_created_idx` ON `ticket_labels` (`created`);--> statement-breakpoint
CREATE TABLE `tickets` (
	`id` text PRIMARY KEY NOT NULL,
	`key` text NOT NULL,
	`project` text,
	`issue_type` text,
	`status` text,
	`labels` text DEFAULT '[]' NOT NULL,
	`summary` text,
	`description` text,
	`reporter` text,
	`reporter_id` text,
	`created` integer,
	`updated` integer,
	`resolved` integer,
	`origin` text DEFAULT 'webhook' NOT NULL,
	`last_event_at` integer,
	`recorded_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tickets_key_idx` ON `tickets` (`key`);--> statement-breakpoint
CREATE INDEX `tickets_created_idx` ON `tickets` (`created`);--> statement-breakpoint
CREATE INDEX `tickets_project_created_idx` ON `tickets` (`project`,`created`);