-- The approvals a pending action has collected (docs/admin.md "Approvals"): enabling a circuit
-- version needs two admins besides the requester. A JSON array of {"type","id","at"} in the order
-- given, written and compared as one text by the compare-and-set that adds a vote. An action
-- approved before this migration counts its one approver.
ALTER TABLE pending_actions ADD COLUMN approvals_json TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(approvals_json) AND json_type(approvals_json) = 'array');
UPDATE pending_actions
SET approvals_json = json_array(json_object('type', decided_by_type, 'id', decided_by_id,
                                            'at', decided_at))
WHERE state = 'approved' AND decided_by_type IS NOT NULL;
