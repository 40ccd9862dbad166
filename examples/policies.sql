-- Two provisioning policies for mod_eas (MS-ASPROV settings; see
-- docs/administration.md).  Apply with
--   psql "host=/run/postgresql dbname=eas" -f policies.sql
-- then serve "standard" to everyone (EASDefaultPolicy standard) and give
-- "strict" to the users who need it:
--   SELECT eas.assign_policy('jdoe', 'strict');
-- Running it again is harmless; every change makes devices provision anew.
BEGIN;

-- standard: a PIN or password, locked after 15 minutes, wiped after 10
-- wrong attempts.  Everything else as the device likes.
SELECT eas.set_policy_setting('standard', 'DevicePasswordEnabled', '1');
SELECT eas.set_policy_setting('standard', 'AllowSimpleDevicePassword', '1');
SELECT eas.set_policy_setting('standard', 'MinDevicePasswordLength', '6');
SELECT eas.set_policy_setting('standard', 'MaxInactivityTimeDeviceLock', '900');
SELECT eas.set_policy_setting('standard', 'MaxDevicePasswordFailedAttempts', '10');
SELECT eas.set_policy_setting('standard', 'PasswordRecoveryEnabled', '1');
UPDATE eas.policies SET description = 'PIN of 6, lock after 15 minutes, wipe after 10 failures'
 WHERE name = 'standard';

-- strict: an alphanumeric password that expires, an encrypted device,
-- no storage card, short lock time, and a month of mail and calendar.
SELECT eas.set_policy_setting('strict', 'DevicePasswordEnabled', '1');
SELECT eas.set_policy_setting('strict', 'AlphanumericDevicePasswordRequired', '1');
SELECT eas.set_policy_setting('strict', 'AllowSimpleDevicePassword', '0');
SELECT eas.set_policy_setting('strict', 'MinDevicePasswordLength', '10');
SELECT eas.set_policy_setting('strict', 'MinDevicePasswordComplexCharacters', '3');
SELECT eas.set_policy_setting('strict', 'DevicePasswordExpiration', '90');
SELECT eas.set_policy_setting('strict', 'DevicePasswordHistory', '5');
SELECT eas.set_policy_setting('strict', 'MaxInactivityTimeDeviceLock', '300');
SELECT eas.set_policy_setting('strict', 'MaxDevicePasswordFailedAttempts', '6');
SELECT eas.set_policy_setting('strict', 'RequireDeviceEncryption', '1');
SELECT eas.set_policy_setting('strict', 'RequireStorageCardEncryption', '1');
SELECT eas.set_policy_setting('strict', 'AllowStorageCard', '0');
SELECT eas.set_policy_setting('strict', 'AllowSMIMESoftCerts', '0');
SELECT eas.set_policy_setting('strict', 'AllowConsumerEmail', '0');
SELECT eas.set_policy_setting('strict', 'MaxEmailAgeFilter', '5');      -- one month
SELECT eas.set_policy_setting('strict', 'MaxCalendarAgeFilter', '6');   -- three months
SELECT eas.set_policy_setting('strict', 'MaxAttachmentSize', '10485760');
UPDATE eas.policies SET description = 'Password of 10 (3 kinds of characters), 90 days, '
                                      'encryption, lock after 5 minutes, no storage card'
 WHERE name = 'strict';

COMMIT;
