// Testing saved connections from the table: which tests are running, and which
// rows show their last outcome (a failed test opens its row). A rejected test
// (unknown id, keychain...) is recorded like a failed one.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { Connection, TestOutcome } from '../../api/types';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';

/** `set` with `id` added (on), removed (off) or flipped (on undefined); a new Set. */
export function toggle(set: Set<string>, id: string, on?: boolean): Set<string> {
  const next = new Set(set);
  if (on ?? !next.has(id)) next.add(id);
  else next.delete(id);
  return next;
}

export function useConnectionTests(setLastTest: (id: string, outcome: TestOutcome) => void) {
  const t = useT();
  const toast = useToast();
  const [running, setRunning] = useState<Set<string>>(new Set());
  const [expanded, setExpanded] = useState<Set<string>>(new Set());

  const runTest = async (c: Connection) => {
    setRunning((s) => toggle(s, c.id, true));
    try {
      const outcome = await api.connectionTest(c.id);
      setLastTest(c.id, outcome);
      if (!outcome.ok) setExpanded((s) => toggle(s, c.id, true));
    } catch (e) {
      // A rejection (unknown id, keychain...) is shown like a failed test.
      const err = toAppError(e);
      const outcome: TestOutcome = {
        ok: false,
        version: null,
        message: err.message,
        error_code: err.code,
        latency_ms: 0,
        tested_at: new Date().toISOString(),
      };
      setLastTest(c.id, outcome);
      toast.push({ kind: 'error', title: t('connections.testFailed', { name: c.name }), detail: err.message });
    } finally {
      setRunning((s) => toggle(s, c.id, false));
    }
  };

  return { running, expanded, runTest, toggleExpanded: (id: string) => setExpanded((s) => toggle(s, id)) };
}

export type ConnectionTests = ReturnType<typeof useConnectionTests>;
