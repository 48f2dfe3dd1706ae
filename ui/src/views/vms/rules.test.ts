import { describe, expect, it } from 'vitest';
import type { Decision } from '../../api/types';
import { approvedByRule } from './rules';

const d = (stage: Decision['stage'], actor: string, approved = true) => ({ stage, actor, approved, at: 't', comment: '' }) as Decision;

describe('auto-approval badge', () => {
  it('names the rule that approved the manager step', () => {
    expect(approvedByRule({ decisions: [d('manager', 'policy:small'), d('admin', 'carol')] })).toBe('small');
  });
  it('is absent when a person approved, the admin step is a policy name, or nothing was decided', () => {
    expect(approvedByRule({ decisions: [d('manager', 'bob')] })).toBeNull();
    expect(approvedByRule({ decisions: [d('admin', 'policy:x')] })).toBeNull();
    expect(approvedByRule({ decisions: [d('manager', 'policy:x', false)] })).toBeNull();
    expect(approvedByRule({ decisions: [] })).toBeNull();
  });
});
