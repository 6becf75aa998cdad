-- A photo whose renditions could not be made keeps its lease row, held by
-- no one ('') until its next try, with how many tries failed and the last
-- error: every instance sharing the database then waits the same, a restart
-- does not start the wait over, and editors can see why. Making the
-- renditions deletes the row.
ALTER TABLE photo_leases ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE photo_leases ADD COLUMN error TEXT;
