-- Counted attempts at things that can be guessed or mined: exact searches by a full ID
-- number or phone, wrong redemption codes. One row per (bucket, subject) — the subject is an
-- account id or a client address — counting hits in a fixed window that starts at the first
-- hit. City-wide like accounts: a subject is not a county's.
CREATE TABLE throttles (
    bucket TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (bucket, subject)
);
CREATE INDEX throttles_window ON throttles (window_start);
