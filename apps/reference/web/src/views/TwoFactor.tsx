import type { PublicUser } from '@latchkey/client';
import qrcode from 'qrcode-generator';
import { useId, useMemo, useState, type SubmitEvent } from 'react';
import { auth } from '../auth.js';
import { describeError, endsSession } from '../messages.js';
import { Messages, type Notice } from '../ui.js';

/** A QR code for the otpauth URL, drawn here in the page (a `data:` image; the URL never leaves). */
function QrCode({ url }: { url: string }) {
  const src = useMemo(() => {
    const qr = qrcode(0, 'M');
    qr.addData(url);
    qr.make();
    return qr.createDataURL(4, 4);
  }, [url]);
  return <img className="qr" src={src} alt="QR code for your authenticator app" />;
}

/** Starts a download of the recovery codes as a text file, made in the page. */
function download(codes: string[]) {
  const text = `Latchkey recovery codes (each works once)\n\n${codes.join('\n')}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = 'latchkey-recovery-codes.txt';
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

type Step =
  | { kind: 'idle' }
  | { kind: 'enrolling'; secret: string; otpauthUrl: string }
  | { kind: 'codes'; codes: string[] };

/**
 * The Account view's authenticator app (TOTP): `Set up authenticator app` shows a QR code and
 * the secret as text, a code from the app turns it on, and the 10 recovery codes are shown
 * this once (with a download). Setting up and turning off need a recent proof of identity:
 * the client's re-authentication dialog asks for it.
 */
export function TwoFactor({ user }: { user: PublicUser }) {
  const id = useId();
  const on = user.mfa.includes('totp');
  const [step, setStep] = useState<Step>({ kind: 'idle' });
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);

  const run = async (action: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      await action();
    } catch (caught) {
      if (!endsSession(caught)) setNotice({ kind: 'error', text: describeError(caught, 'mfa') });
    } finally {
      setBusy(false);
    }
  };

  const start = () =>
    run(async () => {
      const enrolment = await auth.enrolTotp();
      setCode('');
      setStep({ kind: 'enrolling', ...enrolment });
    });

  const confirm = (event: SubmitEvent) => {
    event.preventDefault();
    void run(async () => {
      const codes = await auth.confirmTotp(code.trim());
      setStep({ kind: 'codes', codes });
      setNotice({ kind: 'success', text: 'Authenticator app turned on.' });
      // The user's factors changed (`mfa` now lists `totp`).
      await auth.session();
    });
  };

  const turnOff = () =>
    run(async () => {
      await auth.disableTotp();
      setStep({ kind: 'idle' });
      setNotice({ kind: 'success', text: 'Authenticator app turned off.' });
      await auth.session();
    });

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Authenticator app</h2>
      <p className="muted">
        {on
          ? 'On: signing in with your password also asks for a code from your app.'
          : 'Add a second step to signing in: a 6-digit code from an app such as 1Password, Google Authenticator or Aegis.'}
      </p>
      <Messages notice={notice} />
      {step.kind === 'enrolling' ? (
        <div className="enrol">
          <p>Scan this QR code with your authenticator app, or type the secret key into it.</p>
          <QrCode url={step.otpauthUrl} />
          <p>
            Secret key: <code aria-label="Secret key">{step.secret}</code>
          </p>
          <form
            className="form narrow-form"
            noValidate
            aria-busy={busy}
            onSubmit={(event) => confirm(event)}
          >
            <div className="field">
              <label htmlFor={`${id}-code`}>Code from the app</label>
              <input
                id={`${id}-code`}
                type="text"
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={10}
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            </div>
            <div className="actions">
              <button type="submit" className="button primary" disabled={busy}>
                Turn on
              </button>
              <button
                type="button"
                className="button secondary"
                disabled={busy}
                onClick={() => setStep({ kind: 'idle' })}
              >
                Cancel
              </button>
            </div>
          </form>
        </div>
      ) : null}
      {step.kind === 'codes' ? (
        <div className="recovery-codes">
          <h3>Recovery codes</h3>
          <p>
            If you lose your phone, each of these codes signs you in once. Keep them somewhere safe:
            they are shown only now.
          </p>
          <ol aria-label="Recovery codes" className="codes">
            {step.codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ol>
          <div className="actions">
            <button type="button" className="button secondary" onClick={() => download(step.codes)}>
              Download recovery codes
            </button>
            <button
              type="button"
              className="button primary"
              onClick={() => setStep({ kind: 'idle' })}
            >
              I have saved them
            </button>
          </div>
        </div>
      ) : null}
      {step.kind === 'idle' ? (
        <div className="actions">
          {on ? (
            <button
              type="button"
              className="button secondary"
              disabled={busy}
              onClick={() => void turnOff()}
            >
              Turn off authenticator app
            </button>
          ) : (
            <button
              type="button"
              className="button primary"
              disabled={busy}
              onClick={() => void start()}
            >
              Set up authenticator app
            </button>
          )}
        </div>
      ) : null}
    </section>
  );
}
