-- What an intervention of some kinds must record (a buddy partner, capacity support's provider
-- and cost, a flexibility's conditions and expiry, a linked new care model), as a JSON object.
ALTER TABLE interventions ADD COLUMN details TEXT;
