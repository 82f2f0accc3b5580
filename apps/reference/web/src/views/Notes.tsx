import type { OfflineEvent, QueuedChange } from '@latchkey/client/offline';
import { LatchkeyError } from '@latchkey/client';
import { useCallback, useEffect, useId, useState, type SubmitEvent } from 'react';
import { api, auth, type Note } from '../auth.js';
import { describeError, endsSession } from '../messages.js';
import { data, useOfflineEvents } from '../offline.js';
import { Messages, Time, type Notice } from '../ui.js';

const MAX = 10_000;

const preview = (text: string) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 40 ? `${line.slice(0, 39)}…` : line;
};

const offlineError = (caught: unknown) =>
  caught instanceof LatchkeyError && caught.code === 'network_error';

/** The text of a queued `POST /api/notes`. */
const pendingText = (change: QueuedChange) => (change.body as { text?: string } | undefined)?.text;

/**
 * The caller's notes: the app's own API, called through `auth.fetch` for the CSRF header. The
 * notes last seen are kept in the offline store and shown when the server cannot be reached;
 * notes written offline are queued there, shown as pending, and sent when the network is back.
 */
export function Notes() {
  const id = useId();
  const [notes, setNotes] = useState<Note[] | null>(null);
  const [pending, setPending] = useState<QueuedChange[]>([]);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);

  const fail = useCallback((caught: unknown) => {
    // An ended session is reported by the shell, which is about to show the sign-in page.
    if (!endsSession(caught)) setNotice({ kind: 'error', text: describeError(caught, 'notes') });
  }, []);

  const load = useCallback(async () => {
    const queued = data.pending().then(setPending);
    // Until the server confirms who is signed in (offline page load), only the offline copy.
    if (auth.getUser() !== undefined && navigator.onLine) {
      try {
        const body = await api<{ notes: Note[] }>('GET', '/api/notes');
        setNotes(body.notes);
        await Promise.all([data.replace('notes', body.notes), queued]);
        return;
      } catch (caught) {
        if (!offlineError(caught)) return fail(caught);
      }
    }
    // Newest first, as the server lists them.
    const kept = await data.all('notes');
    setNotes(kept.sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
    await queued;
  }, [fail]);

  useEffect(() => {
    void load();
  }, [load]);

  useOfflineEvents(
    useCallback(
      (event: OfflineEvent) => {
        if (event.type === 'queued') void data.pending().then(setPending);
        if (event.type === 'sent') void load();
        if (event.type === 'refused') {
          void load();
          setNotice({
            kind: 'error',
            text: `A note written offline (“${preview(pendingText(event.change) ?? '')}”) was not saved: ${describeError(event.error, 'notes')}`,
          });
        }
      },
      [load],
    ),
  );

  /** Keeps a note to send when the network is back. */
  const queue = async () => {
    await data.enqueue({ method: 'POST', path: '/api/notes', body: { text } });
    setText('');
    setNotice({ kind: 'info', text: 'You are offline: the note will be sent when you are back.' });
  };

  const add = async (event?: SubmitEvent) => {
    event?.preventDefault();
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      if (auth.getUser() === undefined || !navigator.onLine) {
        await queue();
        return;
      }
      const { note } = await api<{ note: Note }>('POST', '/api/notes', { text });
      setNotes((list) => [note, ...(list ?? [])]);
      void data.put('notes', note);
      setText('');
      setNotice({ kind: 'success', text: 'Note added.' });
    } catch (caught) {
      if (offlineError(caught)) await queue().catch(fail);
      else fail(caught);
    } finally {
      setBusy(false);
    }
  };

  const remove = async (note: Note) => {
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      await api('DELETE', `/api/notes/${encodeURIComponent(note.id)}`);
      setNotes((list) => (list ?? []).filter((n) => n.id !== note.id));
      void data.remove('notes', note.id);
      setNotice({ kind: 'success', text: 'Note deleted.' });
    } catch (caught) {
      fail(caught);
      void load();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="view">
      <div className="view-head">
        <h1 tabIndex={-1}>Notes</h1>
        <p className="lede">
          Private to your account and kept on the server. This browser keeps a copy of the notes
          last seen for offline reading; it is deleted when you sign out.
        </p>
      </div>
      <section className="card" aria-labelledby={`${id}-new`}>
        <h2 id={`${id}-new`} className="visually-hidden">
          Write a note
        </h2>
        <form className="form" onSubmit={(event) => void add(event)} aria-busy={busy}>
          <div className="field">
            <label htmlFor={`${id}-text`}>New note</label>
            <textarea
              id={`${id}-text`}
              rows={3}
              value={text}
              aria-describedby={`${id}-count`}
              placeholder="What's on your mind?"
              onChange={(e) => setText(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) void add();
              }}
            />
            <p id={`${id}-count`} className={`hint${text.length > MAX ? ' hint-error' : ''}`}>
              {text.length.toLocaleString()} / {MAX.toLocaleString()} characters · Ctrl+Enter to add
            </p>
          </div>
          <div className="actions">
            <button type="submit" className="button primary" disabled={busy}>
              Add note
            </button>
          </div>
        </form>
      </section>
      <Messages notice={notice} />
      <section className="card" aria-labelledby={`${id}-list`}>
        <div className="card-head">
          <h2 id={`${id}-list`}>Your notes{notes ? ` (${notes.length})` : ''}</h2>
        </div>
        {pending.length > 0 ? (
          <ul className="notes" aria-label="Pending notes">
            {pending.map((change) => (
              <li key={change.seq} className="note note-pending">
                <p className="note-text">{pendingText(change)}</p>
                <div className="note-meta">
                  <span className="badge">Pending</span>
                  <span className="muted small">Sent when you are back online</span>
                </div>
              </li>
            ))}
          </ul>
        ) : null}
        {notes === null ? (
          <p className="muted">Loading notes…</p>
        ) : notes.length === 0 && pending.length === 0 ? (
          <p className="empty">No notes yet. Write your first one above.</p>
        ) : (
          <ul className="notes">
            {notes.map((note) => (
              <li key={note.id} className="note">
                <p className="note-text">{note.text}</p>
                <div className="note-meta">
                  <Time iso={note.createdAt} />
                  <button
                    type="button"
                    className="button danger small"
                    disabled={busy}
                    aria-label={`Delete note “${preview(note.text)}”`}
                    onClick={() => void remove(note)}
                  >
                    Delete
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
