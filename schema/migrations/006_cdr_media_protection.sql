-- Schema version 6: who could hear each call (issue 14, DESIGN.md threat
-- model 8). Set when the relay has seen both parties' SDP; empty while it
-- has not (a call that failed before an answer, or a local call whose media
-- went phone to phone without the relay).
--   media_inter_site: 'srtp' for a call with another site (the leg between
--                     the relays; never anything else: a call that cannot
--                     be protected is refused), '' for a local call.
--   media_lan:        'srtp' when every phone's leg was SRTP with the relay
--                     (or end to end), 'plain' otherwise.
--   media_end_to_end: 'none', 'dtls-srtp' or 'zrtp' (both phones' SDP).
ALTER TABLE cdrs ADD COLUMN media_inter_site TEXT NOT NULL DEFAULT '';
ALTER TABLE cdrs ADD COLUMN media_lan TEXT NOT NULL DEFAULT '';
ALTER TABLE cdrs ADD COLUMN media_end_to_end TEXT NOT NULL DEFAULT '';
