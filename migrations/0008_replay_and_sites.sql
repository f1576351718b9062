ALTER TABLE `deliveries` ADD `body_sha256` text;--> statement-breakpoint
CREATE INDEX `deliveries_body_sha256_idx` ON `deliveries` (`body_sha256`,`received_at`);--> statement-breakpoint
ALTER TABLE `tickets` ADD `issue_id` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `tickets` ADD `site` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX `tickets_issue_id_idx` ON `tickets` (`issue_id`);--> statement-breakpoint
-- Data step: existing tickets get their issue id and, where a stored delivery tells it, their site (the host of the
-- issue's `self` URL in the newest delivery about that issue); then rows with a known site are re-keyed
-- `<site host>:<issue id>`, with their label and group rows. Rows with no delivery (imports) keep the bare issue id
-- (site unknown) until a snapshot with a site adopts them (db/tickets.ts).
UPDATE `tickets` SET `issue_id` = `id`;--> statement-breakpoint
UPDATE `tickets` SET `site` = COALESCE((
  SELECT lower(substr(rest, 1, instr(rest || '/', '/') - 1)) FROM (
    SELECT substr(self, instr(self, '://') + 3) AS rest FROM (
      SELECT CASE WHEN json_valid(d.body) THEN COALESCE(json_extract(d.body, '$.issue.self'), json_extract(d.body, '$.self')) END AS self,
             CASE WHEN json_valid(d.body) THEN CAST(COALESCE(json_extract(d.body, '$.issue.id'), json_extract(d.body, '$.id')) AS TEXT) END AS issue_id
      FROM `deliveries` d WHERE d.issue_key = `tickets`.`key` ORDER BY d.id DESC
    ) WHERE self LIKE 'http%://%' AND issue_id = `tickets`.`id` LIMIT 1
  )
), '');--> statement-breakpoint
PRAGMA defer_foreign_keys = ON;--> statement-breakpoint
UPDATE `ticket_labels` SET `ticket_id` = (SELECT t.site || ':' || t.issue_id FROM `tickets` t WHERE t.id = `ticket_labels`.`ticket_id`)
  WHERE `ticket_id` IN (SELECT id FROM `tickets` WHERE site != '');--> statement-breakpoint
UPDATE `ticket_groups` SET `ticket_id` = (SELECT t.site || ':' || t.issue_id FROM `tickets` t WHERE t.id = `ticket_groups`.`ticket_id`)
  WHERE `ticket_id` IN (SELECT id FROM `tickets` WHERE site != '');--> statement-breakpoint
UPDATE `tickets` SET `id` = `site` || ':' || `issue_id` WHERE `site` != '';
