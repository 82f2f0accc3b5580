import { useCallback, useEffect, useId, useState, type SubmitEvent } from 'react';
import { api, type Note } from '../auth.js';
import { describeError, endsSession } from '../messages.js';
import { Messages, Time, type Notice } from '../ui.js';

const MAX = 10_000;

const preview = (text: string) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 40 ? `${line.slice(0, 39)}…` : line;
};

/** The caller's notes: the app's own API, called through `auth.fetch` for the CSRF header. */
export function Notes() {
  const id = useId();
  const [notes, setNotes] = useState<Note[] | null>(null);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);

  const fail = useCallback((caught: unknown) => {
    // An ended session is reported by the shell, which is about to show the sign-in page.
    if (!endsSession(caught)) setNotice({ kind: 'error', text: describeError(caught, 'notes') });
  }, []);

  const load = useCallback(async () => {
    try {
      const body = await api<{ notes: Note[] }>('GET', '/api/notes');
      setNotes(body.notes);
    } catch (caught) {
      fail(caught);
    }
  }, [fail]);

  useEffect(() => {
    void load();
  }, [load]);

  const add = async (event?: SubmitEvent) => {
    event?.preventDefault();
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      const { note } = await api<{ note: Note }>('POST', '/api/notes', { text });
      setNotes((list) => [note, ...(list ?? [])]);
      setText('');
      setNotice({ kind: 'success', text: 'Note added.' });
    } catch (caught) {
      fail(caught);
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
          Private to your account and kept on the server. The browser stores no copy.
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
        {notes === null ? (
          <p className="muted">Loading notes…</p>
        ) : notes.length === 0 ? (
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
