import { addDays, minimumTermEnd, type LocalDate } from '../../kernel/time.ts';

/**
 * Number lifecycle dates (§3, §3.6, §8.6), as pure functions of local Brussels dates.
 *
 * Day counting, one convention for every period: a period of N days that starts on local
 * date D covers D … D+N−1; the daily job at 00:00 on D+N ends it.
 * - §3.6 a reservation made on D holds 30 days: the job at 00:00 on D+30 frees it;
 * - a number released on D stays in quarantine 90 days: available at 00:00 on D+90;
 * - §8.6 an international number assigned on D is committed until D + 12 months − 1 day
 *   (kernel `minimumTermEnd`, the same calendar arithmetic as contract terms: 2027-01-15 →
 *   2028-01-14; 2028-02-29 → 2029-02-27, because 2029-02-29 does not exist and clamps to
 *   the 28th). A release asked on or before that last day takes effect at the job of
 *   00:00 the day after it.
 */
export const RESERVATION_DAYS = 30;
export const QUARANTINE_DAYS = 90;
export const INTERNATIONAL_COMMITMENT_MONTHS = 12;

/** §3.6: first local date on which a reservation made on `reservedOn` no longer holds. */
export const reservationExpiresOn = (reservedOn: LocalDate): LocalDate => addDays(reservedOn, RESERVATION_DAYS);

/** First local date on which a number released on `releasedOn` is available again. */
export const quarantineEndsOn = (releasedOn: LocalDate): LocalDate => addDays(releasedOn, QUARANTINE_DAYS);

/** §8.6: last day of the commitment of an international number assigned on `assignedOn`. */
export const commitmentEnd = (assignedOn: LocalDate): LocalDate => minimumTermEnd(assignedOn, INTERNATIONAL_COMMITMENT_MONTHS);

/** §8.6: does a release asked on `today` take effect at once (true) or wait for the commitment's end? */
export const releaseIsImmediate = (today: LocalDate, commitmentLastDay: LocalDate | null): boolean =>
  commitmentLastDay === null || today > commitmentLastDay;

/** §8.6: the local date of the job that releases a pending international number. */
export const pendingReleaseDate = (commitmentLastDay: LocalDate): LocalDate => addDays(commitmentLastDay, 1);

/**
 * §8.6/§8.5 at a billing run: does an international number count for the month starting
 * `monthStart`? Yes unless its release is pending and the month begins after the
 * commitment's last day.
 */
export const countsForMonth = (n: { releasePending: boolean; commitmentEnd: LocalDate | null }, monthStart: LocalDate): boolean =>
  !n.releasePending || n.commitmentEnd === null || monthStart <= n.commitmentEnd;
