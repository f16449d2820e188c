-- Version 6 belongs to the audit-chain change; this placeholder keeps the versions contiguous
-- until it lands (delete this file when merging that change's 0006).
SELECT 1;
