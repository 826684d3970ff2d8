import { useEffect, useState, useSyncExternalStore } from 'react';
import { cancelDownload, catalogSnapshot, freeCached, listCached, subscribeCatalog, type CachedModel } from '../models/catalog';

function megabytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(2)} MB`;
}

/** Remote models: downloads in progress (progress bar, cancel) and the cached ones ("manage models": size, free). */
export function CatalogPanel() {
  const snap = useSyncExternalStore(subscribeCatalog, catalogSnapshot);
  const [cached, setCached] = useState<CachedModel[]>([]);

  useEffect(() => {
    let live = true;
    listCached()
      .then((list) => live && setCached(list))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [snap.version]);

  if (snap.downloads.length === 0 && cached.length === 0) return null;
  return (
    <section className="catalog-panel" data-testid="catalog-panel" aria-label="Remote models">
      {snap.downloads.map((d) => (
        <div key={d.url} className="catalog-download">
          <span>
            Downloading {d.name}
            {d.attempt > 1 ? ` (resumed, try ${d.attempt})` : ''}
          </span>
          <progress data-testid="download-progress" data-bytes={d.received} data-total={d.total ?? ''} max={d.total ?? undefined} value={d.received} />
          <span>
            {megabytes(d.received)}
            {d.total ? ` / ${megabytes(d.total)}` : ''}
          </span>
          <button type="button" data-testid="download-cancel" onClick={() => cancelDownload(d.url)}>
            Cancel
          </button>
        </div>
      ))}
      {cached.length > 0 && (
        <details>
          <summary>Manage models ({cached.length} cached)</summary>
          <ul>
            {cached.map((m) => (
              <li key={m.url} data-testid="cached-model-row" data-url={m.url} data-bytes={m.bytes}>
                <span title={m.url}>{m.name}</span> <span>{megabytes(m.bytes)}</span>{' '}
                <button type="button" data-testid="free-cached-model" onClick={() => void freeCached(m.url)}>
                  Free
                </button>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
