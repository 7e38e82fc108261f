// Small building blocks shared by the panels: a titled panel, a file drop zone with pickers, a progress
// bar, and saving a file from the page.

import { useId, useRef, useState, type ReactNode } from 'react';

export function Panel({ id, title, step, actions, children, className }: { id: string; title: string; step?: number; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`panel ${className ?? ''}`} aria-labelledby={`${id}-title`} data-testid={`${id}-panel`}>
      <div className="panel-head">
        <h2 id={`${id}-title`}>
          {step !== undefined ? <span className="step-badge" aria-hidden="true">{step}</span> : null}
          {title}
        </h2>
        {actions ? <div className="panel-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/** A picked or dropped file with its path inside a dropped or picked folder ("my-model/config.json"). */
export interface PickedFile {
  path: string;
  file: File;
}

async function entryFiles(entry: FileSystemEntry, prefix: string): Promise<PickedFile[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [{ path: prefix + entry.name, file }];
  }
  if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    const all: FileSystemEntry[] = [];
    // readEntries returns the directory in batches until an empty one
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      all.push(...batch);
    }
    const nested = await Promise.all(all.map((e) => entryFiles(e, `${prefix}${entry.name}/`)));
    return nested.flat();
  }
  return [];
}

async function droppedFiles(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = Array.from(dt.items ?? [])
    .map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length) return (await Promise.all(entries.map((e) => entryFiles(e, '')))).flat();
  return Array.from(dt.files).map((file) => ({ path: file.name, file }));
}

export function FileDrop({
  label,
  hint,
  accept,
  multiple = false,
  folder = false,
  disabled = false,
  onFiles,
  testId,
}: {
  label: string;
  hint?: ReactNode;
  accept?: string;
  multiple?: boolean;
  folder?: boolean;
  disabled?: boolean;
  onFiles: (files: PickedFile[]) => void;
  testId?: string;
}) {
  const [over, setOver] = useState(false);
  const hintId = useId();
  const pick = (list: FileList | null) => {
    if (!list || list.length === 0) return;
    onFiles(Array.from(list).map((file) => ({ path: file.webkitRelativePath || file.name, file })));
  };
  return (
    <div
      className={`drop ${over ? 'drop-over' : ''} ${disabled ? 'drop-disabled' : ''}`}
      data-testid={testId}
      onDragOver={(e) => {
        if (disabled) return;
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        if (disabled) return;
        void droppedFiles(e.dataTransfer).then((files) => files.length && onFiles(files));
      }}
    >
      <div className="drop-text">
        <strong>{label}</strong>
        {hint ? (
          <span className="muted" id={hintId}>
            {hint}
          </span>
        ) : null}
      </div>
      <div className="drop-buttons">
        <label className={`button ${disabled ? 'is-disabled' : ''}`}>
          {multiple ? 'Choose files…' : 'Choose file…'}
          <input
            type="file"
            className="visually-hidden"
            accept={accept}
            multiple={multiple}
            disabled={disabled}
            aria-describedby={hint ? hintId : undefined}
            onChange={(e) => {
              pick(e.currentTarget.files);
              e.currentTarget.value = '';
            }}
          />
        </label>
        {folder ? <FolderPicker disabled={disabled} onPick={pick} /> : null}
      </div>
    </div>
  );
}

function FolderPicker({ disabled, onPick }: { disabled: boolean; onPick: (l: FileList | null) => void }) {
  const ref = useRef<HTMLInputElement>(null);
  return (
    <label className={`button ${disabled ? 'is-disabled' : ''}`}>
      Choose folder…
      <input
        ref={(el) => {
          ref.current = el;
          // webkitdirectory is not in React's input props
          el?.setAttribute('webkitdirectory', '');
        }}
        type="file"
        className="visually-hidden"
        disabled={disabled}
        onChange={(e) => {
          onPick(e.currentTarget.files);
          e.currentTarget.value = '';
        }}
      />
    </label>
  );
}

export function ProgressBar({ value, max, label, testId }: { value: number; max: number | null; label: string; testId?: string }) {
  const pct = max && max > 0 ? Math.min(100, (value / max) * 100) : null;
  return (
    <div
      className={`progress ${pct === null ? 'progress-indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max ?? undefined}
      aria-valuenow={max ? value : undefined}
      data-testid={testId}
    >
      <div className="progress-fill" style={pct === null ? undefined : { width: `${pct}%` }} />
    </div>
  );
}

/** Saves bytes or text as a download named `name`. */
export function saveFile(name: string, content: string | Uint8Array, type = 'application/octet-stream'): void {
  const blob = new Blob([content as BlobPart], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}
