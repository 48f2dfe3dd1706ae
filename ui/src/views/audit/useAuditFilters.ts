// The filters of the local audit log: platform, result, and the search text,
// which applies (as `query`, trimmed) 250 ms after the typing stops.
import { useEffect, useState } from 'preact/hooks';
import type { AuditResult } from '../../api/types';

export function useAuditFilters() {
  const [platform, setPlatform] = useState('');
  const [result, setResult] = useState<'' | AuditResult>('');
  const [text, setText] = useState('');
  const [query, setQuery] = useState(''); // debounced text

  useEffect(() => {
    const id = setTimeout(() => setQuery(text.trim()), 250);
    return () => clearTimeout(id);
  }, [text]);

  return {
    platform,
    setPlatform,
    result,
    setResult,
    text,
    setText,
    query,
    filtered: Boolean(platform || result || query),
    clear: () => {
      setPlatform('');
      setResult('');
      setText('');
      setQuery('');
    },
  };
}

export type AuditFilters = ReturnType<typeof useAuditFilters>;
