/**
 * §5.6 / §8.2: a price change (product price; tariff or pack content) takes effect no
 * earlier than 30 days after the written notice: effective ≥ notice date + 30 days.
 */
import { RuleViolation } from '../../kernel/errors.ts';
import { addDays, type LocalDate } from '../../kernel/time.ts';

export const PRICE_NOTICE_DAYS = 30;

/** The earliest effective date for a notice sent on `noticeDate`. */
export const earliestEffective = (noticeDate: LocalDate, days = PRICE_NOTICE_DAYS): LocalDate => addDays(noticeDate, days);

/** Throws PRICE_NOTICE_TOO_SHORT (clause 5.6 for a product price, 8.2 for a tariff or a pack's content). */
export function assertPriceNotice(noticeDate: LocalDate, effective: LocalDate, clause: '5.6' | '8.2', days = PRICE_NOTICE_DAYS): void {
  const earliest = earliestEffective(noticeDate, days);
  if (effective < earliest) {
    throw new RuleViolation(
      'PRICE_NOTICE_TOO_SHORT',
      clause,
      `A price change notified on ${noticeDate} takes effect on ${earliest} at the earliest (${days} days' notice); ${effective} is too early`,
      { noticeDate, effective, earliest },
    );
  }
}
