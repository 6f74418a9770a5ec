// The AWS SDK for JavaScript v3 (@aws-sdk/client-kms, pinned in package.json) against a
// running emulator named by KMS_EMULATOR_URL, with node:test.
//
// Roles (the built-in demo identities, README "Walk-through"): account 111122223333; alice
// administers KMS there and creates the keys, bob holds no KMS permission (he reaches keys
// through grants), dave is read-only (he lists the grants he may retire). Every test makes
// its own key, so tests are independent.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import {
  KMSClient,
  CreateKeyCommand,
  DescribeKeyCommand,
  ListKeysCommand,
  CreateAliasCommand,
  ListAliasesCommand,
  UpdateAliasCommand,
  DeleteAliasCommand,
  CreateGrantCommand,
  ListGrantsCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ListRetirableGrantsCommand,
  EncryptCommand,
  DecryptCommand,
  GenerateDataKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  ScheduleKeyDeletionCommand,
  CancelKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  ListResourceTagsCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  RotateKeyOnDemandCommand,
  ListKeyRotationsCommand,
  ReEncryptCommand,
  NotFoundException,
  TagException,
  LimitExceededException,
  AlreadyExistsException,
  KMSInvalidStateException,
  DisabledException,
  InvalidAliasNameException,
  InvalidCiphertextException,
  KMSServiceException,
} from "@aws-sdk/client-kms";

const URL = (process.env.KMS_EMULATOR_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const REGION = "eu-de";
const ACCOUNT = "111122223333";

const ALICE = ["DEMOALICEACCESSKEY01", "demo-alice-secret-key-0000000000000001", `arn:aws:iam::${ACCOUNT}:user/alice`];
const BOB = ["DEMOBOBACCESSKEY0002", "demo-bob-secret-key-00000000000000002", `arn:aws:iam::${ACCOUNT}:user/bob`];
const DAVE = ["DEMODAVEACCESSKEY004", "demo-dave-secret-key-000000000000004", `arn:aws:iam::${ACCOUNT}:user/dave`];

function client([accessKeyId, secretAccessKey]) {
  return new KMSClient({
    endpoint: URL,
    region: REGION,
    credentials: { accessKeyId, secretAccessKey },
    // A wrong answer must fail the test, not be retried into a slow pass.
    maxAttempts: 1,
  });
}

const alice = client(ALICE);
const bob = client(BOB);
const dave = client(DAVE);

const unique = (prefix) => `alias/${prefix}-${randomUUID().slice(0, 12)}`;

async function newKey(description = "js suite") {
  const { KeyMetadata } = await alice.send(new CreateKeyCommand({ Description: description }));
  return KeyMetadata;
}

// AccessDeniedException and ValidationException are not in KMS's service model, so the
// SDK has no class for them: they arrive as the service's base class KMSServiceException
// with that name (as from AWS).
const AccessDeniedException = "AccessDeniedException";
const ValidationException = "ValidationException";

// The call fails with the SDK's exception class `cls` (or, for a name, the base class with
// that name), as a client fault with HTTP 400.
async function rejects(promise, cls) {
  const name = typeof cls === "string" ? cls : cls.name;
  await assert.rejects(promise, (error) => {
    if (typeof cls !== "string") {
      assert.ok(error instanceof cls, `expected ${name}, got ${error.name}: ${error.message}`);
    }
    assert.ok(error instanceof KMSServiceException, `${error.name}: ${error.message}`);
    assert.equal(error.name, name, error.message);
    assert.equal(error.$metadata.httpStatusCode, 400);
    assert.equal(error.$fault, "client");
    return true;
  });
}

test("CreateKey and DescribeKey by id, ARN and alias", async () => {
  const key = await newKey("described");
  assert.match(key.KeyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(key.Arn, `arn:aws:kms:${REGION}:${ACCOUNT}:key/${key.KeyId}`);
  assert.equal(key.AWSAccountId, ACCOUNT);
  assert.equal(key.Description, "described");
  assert.equal(key.KeyState, "Enabled");
  assert.equal(key.Enabled, true);
  assert.equal(key.KeyUsage, "ENCRYPT_DECRYPT");
  assert.equal(key.KeySpec, "SYMMETRIC_DEFAULT");
  assert.equal(key.KeyManager, "CUSTOMER");
  assert.ok(key.CreationDate instanceof Date, "the SDK parses the epoch timestamp");
  assert.ok(Math.abs(key.CreationDate.getTime() - Date.now()) < 5 * 60_000);

  const alias = unique("described");
  await alice.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyId }));
  for (const id of [key.KeyId, key.Arn, alias, `arn:aws:kms:${REGION}:${ACCOUNT}:${alias}`]) {
    const { KeyMetadata } = await alice.send(new DescribeKeyCommand({ KeyId: id }));
    assert.equal(KeyMetadata.Arn, key.Arn, id);
  }

  const listed = [];
  let Marker;
  do {
    const page = await alice.send(new ListKeysCommand({ Limit: 2, Marker }));
    listed.push(...page.Keys);
    Marker = page.Truncated ? page.NextMarker : undefined;
  } while (Marker);
  assert.deepEqual(listed.filter((k) => k.KeyId === key.KeyId), [{ KeyId: key.KeyId, KeyArn: key.Arn }]);
});

test("aliases: create, list, update, use by name, delete", async () => {
  const first = await newKey();
  const second = await newKey();
  const alias = unique("orders");
  await alice.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: first.KeyId }));
  await rejects(alice.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: second.KeyId })), AlreadyExistsException);

  const { Aliases } = await alice.send(new ListAliasesCommand({ KeyId: first.KeyId }));
  assert.deepEqual(
    Aliases.map((a) => [a.AliasName, a.AliasArn, a.TargetKeyId]),
    [[alias, `arn:aws:kms:${REGION}:${ACCOUNT}:${alias}`, first.KeyId]],
  );

  // Encrypt by alias name, re-point the alias, and the same name now means the other key.
  const sealed = await alice.send(new EncryptCommand({ KeyId: alias, Plaintext: Buffer.from("by alias") }));
  assert.equal(sealed.KeyId, first.Arn);
  await alice.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: second.KeyId }));
  const resealed = await alice.send(new EncryptCommand({ KeyId: alias, Plaintext: Buffer.from("by alias") }));
  assert.equal(resealed.KeyId, second.Arn);
  const { Aliases: moved } = await alice.send(new ListAliasesCommand({ KeyId: second.KeyId }));
  assert.deepEqual(moved.map((a) => a.AliasName), [alias]);
  assert.deepEqual((await alice.send(new ListAliasesCommand({ KeyId: first.KeyId }))).Aliases, []);
  // The ciphertext made under the alias's first key still names that key.
  const opened = await alice.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
  assert.equal(opened.KeyId, first.Arn);

  await alice.send(new DeleteAliasCommand({ AliasName: alias }));
  await rejects(alice.send(new DescribeKeyCommand({ KeyId: alias })), NotFoundException);
  await rejects(alice.send(new DeleteAliasCommand({ AliasName: alias })), NotFoundException);
  await rejects(alice.send(new CreateAliasCommand({ AliasName: "no-prefix", TargetKeyId: first.KeyId })), InvalidAliasNameException);
  // Not modeled either: AWS answers NotAuthorizedException for the reserved alias/aws/ names.
  await rejects(alice.send(new CreateAliasCommand({ AliasName: "alias/aws/reserved", TargetKeyId: first.KeyId })), "NotAuthorizedException");
});

test("grants: create, list, use, retire, revoke, list retirable", async () => {
  const key = await newKey();
  await rejects(bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") })), AccessDeniedException);

  const grant = await alice.send(new CreateGrantCommand({
    KeyId: key.KeyId,
    GranteePrincipal: BOB[2],
    RetiringPrincipal: DAVE[2],
    Operations: ["Encrypt", "Decrypt", "DescribeKey"],
    Name: "js-app",
  }));
  assert.match(grant.GrantId, /^[0-9a-f]{64}$/);
  assert.ok(grant.GrantToken.length > 0);

  const { Grants } = await alice.send(new ListGrantsCommand({ KeyId: key.KeyId }));
  assert.equal(Grants.length, 1);
  const [listed] = Grants;
  assert.equal(listed.GrantId, grant.GrantId);
  assert.equal(listed.KeyId, key.Arn);
  assert.equal(listed.GranteePrincipal, BOB[2]);
  assert.equal(listed.RetiringPrincipal, DAVE[2]);
  assert.equal(listed.IssuingAccount, `arn:aws:iam::${ACCOUNT}:root`);
  assert.equal(listed.Name, "js-app");
  assert.deepEqual([...listed.Operations].sort(), ["Decrypt", "DescribeKey", "Encrypt"]);
  assert.ok(listed.CreationDate instanceof Date);

  // bob uses the key through the grant; the grant does not cover GenerateDataKey.
  const sealed = await bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("for bob") }));
  const opened = await bob.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
  assert.equal(Buffer.from(opened.Plaintext).toString(), "for bob");
  await rejects(bob.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256" })), AccessDeniedException);

  // dave (read-only) lists the grants he may retire, then retires this one.
  const retirable = await dave.send(new ListRetirableGrantsCommand({ RetiringPrincipal: DAVE[2] }));
  assert.ok(retirable.Grants.some((g) => g.GrantId === grant.GrantId && g.KeyId === key.Arn));
  await dave.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId: grant.GrantId }));
  await rejects(bob.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob })), AccessDeniedException);
  assert.deepEqual((await alice.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants, []);

  // alice revokes a second grant; revoking it again finds nothing.
  const second = await alice.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: BOB[2], Operations: ["Encrypt"] }));
  await bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") }));
  await alice.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: second.GrantId }));
  await rejects(bob.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") })), AccessDeniedException);
  await rejects(alice.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: second.GrantId })), NotFoundException);
  await rejects(alice.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: BOB[2], Operations: ["Fly"] })), ValidationException);
});

test("Encrypt / Decrypt with an encryption context", async () => {
  const key = await newKey();
  const plain = randomBytes(100);
  const context = { tenant: "acme", purpose: "js" };
  const sealed = await alice.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plain, EncryptionContext: context }));
  assert.equal(sealed.KeyId, key.Arn);
  assert.equal(sealed.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
  assert.ok(sealed.CiphertextBlob instanceof Uint8Array && sealed.CiphertextBlob.length > plain.length);
  assert.notDeepEqual(Buffer.from(sealed.CiphertextBlob).subarray(0, plain.length), plain);

  const opened = await alice.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: context }));
  assert.deepEqual(Buffer.from(opened.Plaintext), plain);
  assert.equal(opened.KeyId, key.Arn);
  await rejects(alice.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: { tenant: "other" } })), InvalidCiphertextException);
  const tampered = Buffer.from(sealed.CiphertextBlob);
  tampered[tampered.length - 1] ^= 1;
  await rejects(alice.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })), InvalidCiphertextException);
});

test("GenerateDataKey: the plaintext and the ciphertext's decryption agree", async () => {
  const key = await newKey();
  for (const [args, length] of [[{ KeySpec: "AES_256" }, 32], [{ KeySpec: "AES_128" }, 16], [{ NumberOfBytes: 64 }, 64]]) {
    const dataKey = await alice.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, ...args }));
    assert.equal(dataKey.KeyId, key.Arn);
    assert.equal(dataKey.Plaintext.length, length);
    const opened = await alice.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }));
    assert.deepEqual(Buffer.from(opened.Plaintext), Buffer.from(dataKey.Plaintext));
  }
  await rejects(alice.send(new GenerateDataKeyCommand({ KeyId: key.KeyId })), ValidationException);
});

test("key states and not-found answers by exception class", async () => {
  const key = await newKey();
  await alice.send(new DisableKeyCommand({ KeyId: key.KeyId }));
  assert.equal((await alice.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata.KeyState, "Disabled");
  await rejects(alice.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") })), DisabledException);
  await alice.send(new EnableKeyCommand({ KeyId: key.KeyId }));

  const scheduled = await alice.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
  assert.equal(scheduled.KeyState, "PendingDeletion");
  assert.equal(scheduled.PendingWindowInDays, 7);
  assert.ok(scheduled.DeletionDate instanceof Date && scheduled.DeletionDate.getTime() > Date.now() + 6 * 86_400_000);
  await rejects(alice.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") })), KMSInvalidStateException);
  await alice.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
  assert.equal((await alice.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata.KeyState, "Disabled");
  await rejects(alice.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 6 })), ValidationException);

  await rejects(alice.send(new DescribeKeyCommand({ KeyId: randomUUID() })), NotFoundException);
  await rejects(alice.send(new DescribeKeyCommand({ KeyId: unique("absent") })), NotFoundException);
  // dave reads, but may not use or change keys.
  assert.equal((await dave.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata.Arn, key.Arn);
  await rejects(dave.send(new DisableKeyCommand({ KeyId: key.KeyId })), AccessDeniedException);
});

test("tags: Tags on CreateKey, TagResource, ListResourceTags paging, UntagResource, TagException", async () => {
  const { KeyMetadata: key } = await alice.send(
    new CreateKeyCommand({ Tags: [{ TagKey: "team", TagValue: "orders" }] }),
  );
  await alice.send(
    new TagResourceCommand({
      KeyId: key.KeyId,
      Tags: [
        { TagKey: "env", TagValue: "test" },
        { TagKey: "team", TagValue: "payments" },
      ],
    }),
  );
  const tags = [];
  let Marker;
  do {
    const page = await alice.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Limit: 1, Marker }));
    tags.push(...page.Tags);
    Marker = page.Truncated ? page.NextMarker : undefined;
  } while (Marker);
  assert.deepEqual(
    tags.map((t) => [t.TagKey, t.TagValue]).sort(),
    [["env", "test"], ["team", "payments"]],
  );
  await alice.send(new UntagResourceCommand({ KeyId: key.KeyId, TagKeys: ["env"] }));
  const { Tags } = await alice.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));
  assert.deepEqual(Tags, [{ TagKey: "team", TagValue: "payments" }]);
  await rejects(
    alice.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: "aws:reserved", TagValue: "x" }] })),
    TagException,
  );
  const many = Array.from({ length: 51 }, (_, i) => ({ TagKey: `k${i}`, TagValue: "v" }));
  await rejects(alice.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: many })), LimitExceededException);
  await rejects(
    bob.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: "a", TagValue: "b" }] })),
    AccessDeniedException,
  );
});

test("rotation and ReEncrypt: old ciphertexts still open, re-encrypted data opens under the new key", async () => {
  const key = await newKey("rotated");
  const before = await alice.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("before") }));
  await alice.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 180 }));
  const status = await alice.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
  assert.equal(status.KeyRotationEnabled, true);
  assert.equal(status.RotationPeriodInDays, 180);
  assert.ok(status.NextRotationDate instanceof Date);
  await alice.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
  const { Rotations } = await alice.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }));
  assert.deepEqual(Rotations.map((r) => r.RotationType), ["ON_DEMAND"]);
  const opened = await alice.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }));
  assert.equal(Buffer.from(opened.Plaintext).toString(), "before");

  const destination = await newKey("destination");
  const moved = await alice.send(
    new ReEncryptCommand({ CiphertextBlob: before.CiphertextBlob, DestinationKeyId: destination.KeyId }),
  );
  assert.equal(moved.SourceKeyId, key.Arn);
  assert.equal(moved.KeyId, destination.Arn);
  const again = await alice.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob }));
  assert.equal(Buffer.from(again.Plaintext).toString(), "before");
  assert.equal(again.KeyId, destination.Arn);
  await rejects(
    bob.send(new ReEncryptCommand({ CiphertextBlob: before.CiphertextBlob, DestinationKeyId: destination.KeyId })),
    AccessDeniedException,
  );
});
