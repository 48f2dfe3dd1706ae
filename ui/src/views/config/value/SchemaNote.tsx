// Which JSON Schema governs the open key (the longest prefix with one in the
// team store): shown under the key's metadata. A save the schema refuses
// fails with the failing path in the save dialog's error (the backend checks).
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../../api/client';
import type { SchemaInfo } from '../../../api/types';
import { useT } from '../../../i18n';

export function useSchemaFor(connId: string, keyName: string): SchemaInfo | null {
  const [schema, setSchema] = useState<SchemaInfo | null>(null);
  useEffect(() => {
    let live = true;
    setSchema(null);
    api
      .configSchemaFor(connId, keyName)
      .then((s) => {
        if (live) setSchema(s);
      })
      // Not knowing the schema is not an error of the value: the save still checks.
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [connId, keyName]);
  return schema;
}

export function SchemaNote({ schema }: { schema: SchemaInfo | null }) {
  const t = useT();
  if (!schema) return null;
  return (
    <div class={schema.invalid ? 'cfg-schema-note pill-warn' : 'cfg-schema-note'} data-testid="config-schema-note" title={schema.document}>
      <strong>{t('config.value.schemaLabel')}</strong>{' '}
      {schema.invalid
        ? t('config.value.schemaInvalid', { prefix: schema.prefix, error: schema.invalid })
        : t('config.value.schemaOf', { prefix: schema.prefix, source: schema.source })}
    </div>
  );
}
