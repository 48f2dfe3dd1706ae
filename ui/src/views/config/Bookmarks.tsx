// The bookmarks of the connection, above the key tree: each one a button
// (Tab reaches them; Enter opens the key or the prefix), with a remove button.
import { ErrorState } from '../../components/ErrorState';
import { Icon } from '../../components/Icon';
import { useT } from '../../i18n';
import type { useBookmarks } from './useBookmarks';

interface Props {
  bookmarks: ReturnType<typeof useBookmarks>;
  onOpen: (key: string, isPrefix: boolean) => void;
}

export function Bookmarks({ bookmarks, onOpen }: Props) {
  const t = useT();
  return (
    <nav class="cfg-bookmarks" aria-label={t('config.ops.bookmarks.title')} data-testid="config-bookmarks">
      <div class="cfg-bookmarks-title muted">{t('config.ops.bookmarks.title')}</div>
      {bookmarks.error && <ErrorState error={bookmarks.error} inline title={t('config.ops.bookmarks.failed')} />}
      {bookmarks.list.length === 0 ? (
        <div class="muted cfg-bookmarks-empty">{t('config.ops.bookmarks.empty')}</div>
      ) : (
        <ul class="cfg-bookmark-list">
          {bookmarks.list.map((b) => (
            <li key={b.key} class="cfg-bookmark">
              <button type="button" class="btn btn-sm btn-ghost cfg-bookmark-open mono truncate" title={b.key} data-testid="config-bookmark" onClick={() => onOpen(b.key, b.is_prefix)}>
                <Icon name={b.is_prefix ? 'folder' : 'file'} size={13} />
                {b.key}
              </button>
              <button
                type="button"
                class="btn btn-sm btn-icon btn-ghost"
                aria-label={t('config.ops.bookmarks.remove', { key: b.key })}
                title={t('config.ops.bookmarks.remove', { key: b.key })}
                onClick={() => void bookmarks.remove(b.key)}
              >
                <Icon name="close" size={12} />
              </button>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
