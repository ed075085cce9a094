-- Results pushed where citizens are (issue 23): an SMS to the applicant's
-- phone through Kannel, and each cabinet document POSTed to the portal.
--
-- Both are channels of notice_delivery beside the cabinet and the e-mail,
-- with the e-mail's discipline (migrations/004): claimed as "sending"
-- (committed) before it leaves; found "sending" at the next start, it
-- becomes "in_doubt" and is not sent again by itself (at most one SMS per
-- notice and phone; one callback per document and delivery id), until an
-- operator requeues it (kezek sms resend / kezek portal resend).
--   sms:    pending → sending → sent (Kannel took it) → delivered | failed
--           (the delivery report); pending again after a retryable
--           failure, with back-off
--   portal: pending → sending → delivered (2xx) | pending (retry, with
--           back-off) | failed (attempts exhausted)
ALTER TABLE notice_delivery DROP CONSTRAINT notice_delivery_channel_check;
ALTER TABLE notice_delivery ADD CONSTRAINT notice_delivery_channel_check
    CHECK (channel IN ('cabinet', 'email', 'sms', 'portal'));
ALTER TABLE notice_delivery DROP CONSTRAINT notice_delivery_state_check;
ALTER TABLE notice_delivery ADD CONSTRAINT notice_delivery_state_check
    CHECK (state IN ('pending', 'sending', 'sent', 'delivered', 'failed',
                     'in_doubt'));
-- the SMS's segments and encoding as sent (gsm7 | ucs2)
ALTER TABLE notice_delivery ADD COLUMN segments integer;
ALTER TABLE notice_delivery ADD COLUMN coding text;

-- Where an application's results may go: the e-mail, the phone (a
-- Kazakh mobile number, +77…) and the language the applicant chose (kk |
-- ru; NULL: unknown — an SMS then carries both).
ALTER TABLE notify_contact ALTER COLUMN email DROP NOT NULL;
ALTER TABLE notify_contact ADD COLUMN phone text;
ALTER TABLE notify_contact ADD COLUMN language text
    CHECK (language IN ('kk', 'ru'));
