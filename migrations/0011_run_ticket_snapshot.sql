ALTER TABLE `runs` ADD `ticket_snapshot` text;
