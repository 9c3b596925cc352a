// An admission's database refusals are told apart by the constraint's name (003_records.sql,
// 001_init.sql), never by the message or detail text.
import { describe, expect, it } from 'vitest';
import { DbError } from '../../db/driver.ts';
import { AppError } from '../../server/errors.ts';
import { refusal } from '../../server/records/repository.ts';
import { admissionConstraints } from '../../server/records/admissions.store.ts';

const unique = (constraint: string | undefined, detail = 'Key (ward, bed)=(A, 1) already exists.') => new DbError('duplicate key value', '23505', detail, constraint);
const refused = (err: unknown) => {
  try {
    refusal(err, 'admission', admissionConstraints('A', '1'));
  } catch (e) {
    return e;
  }
  throw new Error('refusal() returned');
};

describe('admission refusals', () => {
  it.each([
    ['admissions_bed', 'ERR_BED_OCCUPIED', 'bed 1 on ward A is occupied'],
    ['patients_ward_bed', 'ERR_BED_OCCUPIED', 'bed 1 on ward A is occupied'],
    ['admissions_patient', 'ERR_ALREADY_ADMITTED', 'the patient is already admitted: discharge first'],
  ])('%s → %s', (constraint, code, message) => {
    expect(refused(unique(constraint))).toMatchObject({ code, status: 409, message });
  });

  it('does not read the detail text: an unnamed unique violation is a plain duplicate', () => {
    const e = refused(unique(undefined, 'Key (patient_id)=(…) already exists.'));
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ code: 'ERR_DUPLICATE' });
  });

  it('rethrows what is not a refusal', () => {
    const fault = new Error('connection reset');
    expect(refused(fault)).toBe(fault);
  });
});
