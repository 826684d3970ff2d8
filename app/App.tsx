import { useEffect, useState, type DragEvent } from 'react';
import { engine } from './pipeline/engine';
import { useStore } from './state/store';
import { CatalogPanel } from './ui/CatalogPanel';
import { ClassNamesDialog } from './ui/ClassNamesDialog';
import { PaneBoundary, SectionBoundary } from './ui/ErrorBoundary';
import { MetricsTable } from './ui/MetricsTable';
import { Notices } from './ui/Notices';
import { Pane } from './ui/Pane';
import { SourceBar } from './ui/SourceBar';

/** The page: source bar, notices, panes side by side, metrics table. The whole page is a drop zone. */
export function App() {
  const paneKeys = useStore((s) => s.panes.map((p) => p.key).join(','));
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const item = [...(e.clipboardData?.items ?? [])].find((i) => i.kind === 'file');
      const file = item?.getAsFile();
      if (file) {
        e.preventDefault();
        void engine.openImage(file, file.name || 'pasted image');
      }
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, []);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = [...(e.dataTransfer?.files ?? [])];
    // A COCO ground-truth JSON dropped with its images: evaluate every pane on them.
    const json = files.find((f) => /\.json$/i.test(f.name));
    if (json) void engine.evaluateDropped(json, files.filter((f) => f !== json));
    else if (files[0]) void engine.openFile(files[0]);
  };

  const keys = paneKeys ? paneKeys.split(',').map(Number) : [];
  return (
    <div
      className={`app${dragging ? ' dragging' : ''}`}
      data-testid="drop-zone"
      onDragOver={(e) => {
        e.preventDefault();
        if (!dragging) setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <SectionBoundary name="source bar">
        <SourceBar />
      </SectionBoundary>
      <Notices />
      <SectionBoundary name="model catalog">
        <CatalogPanel />
      </SectionBoundary>
      <main className="panes" style={{ gridTemplateColumns: `repeat(${Math.min(Math.max(keys.length, 1), 3)}, minmax(0, 1fr))` }}>
        {keys.map((key, index) => (
          <PaneBoundary key={key} paneKey={key} index={index}>
            <Pane paneKey={key} index={index} />
          </PaneBoundary>
        ))}
      </main>
      <SectionBoundary name="comparison table">
        <MetricsTable />
      </SectionBoundary>
      <SectionBoundary name="class-names dialog">
        <ClassNamesDialog />
      </SectionBoundary>
      {dragging && <div className="drop-hint">Drop an image to segment it, an .onnx model to add it, or a COCO ground-truth .json with its images to evaluate the panes</div>}
    </div>
  );
}
