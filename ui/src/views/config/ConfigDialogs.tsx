// The one dialog of the Config workspace that is open, if any.
import type { Connection } from '../../api/types';
import { useToast } from '../../components/Toast';
import { useT } from '../../i18n';
import { ChangesDialog } from './ChangesDialog';
import { ClusterDialog } from './ClusterDialog';
import { MoveDialog } from './dialogs/MoveDialog';
import type { DialogName } from './ConfigToolbar';
import { CompareDialog } from './dialogs/CompareDialog';
import { DeletePrefixDialog } from './dialogs/DeletePrefixDialog';
import { ExportDialog } from './dialogs/ExportDialog';
import { ImportDialog } from './dialogs/ImportDialog';
import { PromoteDialog } from './dialogs/PromoteDialog';
import { NewKeyDialog } from './dialogs/NewKeyDialog';
import { ROOT } from './tree';
import type { useChanges } from './useChanges';

interface Props {
  dialog: DialogName;
  onClose: () => void;
  connId: string;
  /** The etcd connections (a promotion's target is another one). */
  connections: Connection[];
  prefix: string;
  changes: ReturnType<typeof useChanges>;
  /** The tree may have changed (a copy, an import, a published change, a deleted prefix). */
  onTreeChanged: () => void;
  onCreateKey: (key: string) => void;
  onPrefixDeleted: (prefix: string) => void;
  /** The prefix a "Move prefix…" starts from (the tree's context menu), else the open prefix. */
  movePrefix?: string | null;
}

export function ConfigDialogs({ dialog, onClose, connId: id, connections, prefix, changes, onTreeChanged, onCreateKey, onPrefixDeleted, movePrefix }: Props) {
  const t = useT();
  const toast = useToast();
  return (
    <>
      {dialog === 'new' && (
        <NewKeyDialog
          prefix={prefix}
          onClose={onClose}
          onCreate={(key) => {
            onClose();
            onCreateKey(key);
          }}
        />
      )}
      {dialog === 'changes' && changes.list && (
        <ChangesDialog
          connId={id}
          list={changes.list}
          onClose={onClose}
          onChanged={() => {
            changes.reload();
            onTreeChanged();
          }}
        />
      )}
      {dialog === 'compare' && <CompareDialog connId={id} initialLeft={prefix === ROOT ? '/app/dev/' : prefix} onClose={onClose} onCopied={onTreeChanged} />}
      {dialog === 'promote' && <PromoteDialog connId={id} connections={connections} initialPrefix={prefix === ROOT ? '/app/' : prefix} onClose={onClose} />}
      {dialog === 'cluster' && <ClusterDialog connId={id} onClose={onClose} />}
      {dialog === 'move' && <MoveDialog connId={id} initialFrom={movePrefix ?? prefix} onClose={onClose} onMoved={onTreeChanged} />}
      {dialog === 'export' && <ExportDialog connId={id} prefix={prefix} onClose={onClose} />}
      {dialog === 'import' && <ImportDialog connId={id} prefix={prefix} onClose={onClose} onImported={onTreeChanged} />}
      {dialog === 'deletePrefix' && (
        <DeletePrefixDialog
          connId={id}
          prefix={prefix}
          onClose={onClose}
          onDeleted={(n) => {
            onClose();
            toast.push({ kind: 'ok', title: t('config.deletePrefix.done', { count: n, prefix }) });
            onPrefixDeleted(prefix);
          }}
        />
      )}
    </>
  );
}
