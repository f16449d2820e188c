-- The approvals a pending action has collected (docs/admin.md "Approvals"): enabling a circuit
-- version needs two admins besides the requester. A JSON array of {"type","id","at"} in the order
-- given, kept as text (not jsonb) because the compare-and-set that adds a vote compares the exact
-- text it read. An action approved before this migration counts its one approver.
ALTER TABLE pending_actions ADD COLUMN approvals_json text NOT NULL DEFAULT '[]'
  CHECK (jsonb_typeof(approvals_json::jsonb) = 'array');
UPDATE pending_actions
SET approvals_json = json_build_array(json_build_object('type', decided_by_type,
                                                        'id', decided_by_id,
                                                        'at', decided_at))::text
WHERE state = 'approved' AND decided_by_type IS NOT NULL;
