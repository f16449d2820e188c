-- Version 7 belongs to the audit-chain change; this placeholder keeps the versions contiguous
-- until it lands (delete this file when merging that change's 0007).
SELECT 1;
