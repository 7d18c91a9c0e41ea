import type { MailMessage } from '../../plugins/mail.js';
import type { CreatedLink } from './access-links.js';

const when = (date: Date, language: 'sv' | 'en'): string =>
  date.toLocaleString(language === 'sv' ? 'sv-SE' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Stockholm' });

/** The e-mail that carries an invitation or reset link, in the person's language. */
export function linkMail(link: CreatedLink, url: string, sentBy: string): MailMessage {
  const { name, email, language } = link.person;
  const until = when(link.expiresAt, language);
  if (language === 'en') {
    return link.purpose === 'invite'
      ? {
        to: email, subject: 'Welcome to Samlarm',
        text: `Hello ${name},\n\n${sentBy} has added you to Samlarm, the alarm app of your workplace. Open this link on your phone, choose a password and allow notifications, so that alarms reach you:\n\n${url}\n\nThe link works once, until ${until}.\n`,
      }
      : {
        to: email, subject: 'Samlarm: choose a new password',
        text: `Hello ${name},\n\n${sentBy} has sent you a link to choose a new password for Samlarm:\n\n${url}\n\nThe link works once, until ${until}. Your other devices are signed out when you use it.\n`,
      };
  }
  return link.purpose === 'invite'
    ? {
      to: email, subject: 'Välkommen till Samlarm',
      text: `Hej ${name}!\n\n${sentBy} har lagt till dig i Samlarm, larmappen på din arbetsplats. Öppna länken i telefonen, välj ett lösenord och tillåt notiser, så når larmen dig:\n\n${url}\n\nLänken fungerar en gång, till ${until}.\n`,
    }
    : {
      to: email, subject: 'Samlarm: välj ett nytt lösenord',
      text: `Hej ${name}!\n\n${sentBy} har skickat en länk så att du kan välja ett nytt lösenord i Samlarm:\n\n${url}\n\nLänken fungerar en gång, till ${until}. Dina andra enheter loggas ut när du använder den.\n`,
    };
}
