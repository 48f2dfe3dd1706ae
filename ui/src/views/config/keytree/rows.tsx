// The rows of the key tree: a key or directory, a "more" row (the next page of
// a directory: loading, or failed with retry), and the spacers that stand for
// the rows outside the window (power-of-two blocks of CSS classes: no style
// attributes under the strict CSP).
import type { AppError, SearchHit, TreeEntry } from '../../../api/types';
import { Icon } from '../../../components/Icon';
import { Spinner } from '../../../components/Spinner';
import { useT } from '../../../i18n';
import { spacerBits } from '../tree';

export function Spacer({ rows }: { rows: number }) {
  return (
    <>
      {spacerBits(rows).map((k, i) => (
        <div key={i} class={`vs vs-${k}`} aria-hidden="true" />
      ))}
    </>
  );
}

export function MoreRow({ depth, error, onRetry }: { depth: number; error: AppError | null; onRetry: () => void }) {
  const t = useT();
  return (
    <div class={`cfg-row cfg-row-more depth-${Math.min(depth, 12)}`} role="none">
      {error ? (
        <span class="cfg-more-error">
          <Icon name="alert" size={13} /> {error.message}{' '}
          <button type="button" class="btn btn-sm btn-ghost" onClick={onRetry}>
            {t('common.retry')}
          </button>
        </span>
      ) : (
        <span class="muted">
          <Spinner /> {t('common.loading')}
        </span>
      )}
    </div>
  );
}

interface EntryRowProps {
  entry: TreeEntry;
  depth: number;
  /** the name shown (relative to the search prefix for search results) */
  name: string;
  isOpen: boolean;
  selected: boolean;
  open: boolean;
  /** changed by someone else a moment ago (highlighted) */
  hot: boolean;
  /** a value search's match in this key: highlighted in the name or shown beside it */
  hit?: SearchHit;
  onClick: () => void;
  /** right click: the row's context menu at the pointer */
  onContextMenu?: (x: number, y: number) => void;
}

/** The hit's parts without their first `cut` characters (the key's part above the shown name). */
export function partsAfter(parts: SearchHit['parts'], cut: number): SearchHit['parts'] {
  const out: SearchHit['parts'] = [];
  let skip = Math.max(0, cut);
  for (const p of parts) {
    if (skip >= p.text.length) {
      skip -= p.text.length;
      continue;
    }
    out.push({ text: p.text.slice(skip), hit: p.hit });
    skip = 0;
  }
  return out;
}

/** The runs of a hit, the matched ones marked (one for a substring match, several for a fuzzy one). */
function Parts({ parts }: { parts: SearchHit['parts'] }) {
  return <>{parts.map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}</>;
}

/** The name with the matched parts marked (a key match), or the name and the value's snippet. */
function Matched({ name, hit }: { name: string; hit: SearchHit }) {
  if (hit.found_in === 'key') {
    const total = hit.parts.reduce((n, p) => n + p.text.length, 0);
    return (
      <span class="cfg-name truncate" title={hit.score != null ? String(hit.score) : undefined}>
        <Parts parts={partsAfter(hit.parts, total - name.length)} />
      </span>
    );
  }
  return (
    <>
      <span class="cfg-name cfg-name-short truncate">{name}</span>
      <span class="cfg-hit truncate muted" data-testid="config-search-snippet">
        <Parts parts={hit.parts} />
      </span>
    </>
  );
}

export function EntryRow({ entry, depth, name, isOpen, selected, open, hot, hit, onClick, onContextMenu }: EntryRowProps) {
  const t = useT();
  const lease = entry.meta && entry.meta.lease !== 0;
  const cls = ['cfg-row', `depth-${Math.min(depth, 12)}`, selected ? 'cfg-row-selected' : '', open ? 'cfg-row-open' : '', hot ? 'cfg-row-changed' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div
      id={`cfg-row-${encodeURIComponent(entry.key)}`}
      class={cls}
      role="treeitem"
      aria-level={depth + 1}
      aria-expanded={entry.is_dir ? isOpen : undefined}
      aria-selected={selected}
      data-testid="config-tree-row"
      data-key={entry.key}
      data-dir={entry.is_dir ? 'true' : 'false'}
      data-changed={hot ? 'true' : undefined}
      title={entry.key}
      onClick={onClick}
      onContextMenu={
        onContextMenu &&
        ((e: MouseEvent) => {
          e.preventDefault();
          onContextMenu(e.clientX, e.clientY);
        })
      }
    >
      {entry.is_dir ? <Icon name={isOpen ? 'chevronDown' : 'chevronRight'} size={14} class="cfg-twisty" /> : <span class="cfg-twisty" />}
      <Icon name={entry.is_dir ? 'folder' : 'file'} size={14} class={entry.is_dir ? 'cfg-icon-dir' : 'cfg-icon-key'} />
      {hit ? <Matched name={name} hit={hit} /> : <span class="cfg-name truncate">{name}</span>}
      {lease && (
        <span class="cfg-lease" title={t('config.tree.leaseTitle', { lease: entry.meta!.lease.toString(16) })}>
          {t('config.tree.lease')}
        </span>
      )}
      {entry.meta && <span class="cfg-rev">{entry.meta.mod_revision}</span>}
    </div>
  );
}
