DROP INDEX "cdrs_unrated_idx";--> statement-breakpoint
-- §8.3 rating throughput: 15 % of every new page of cdrs left free, so that rating (and the
-- answer, the invoice mark) write the new row version on the same page (HOT update, no index
-- entry). Pages written before keep their layout until rewritten (VACUUM FULL / CLUSTER).
ALTER TABLE "cdrs" SET (fillfactor = 85);
