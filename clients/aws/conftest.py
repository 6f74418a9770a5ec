import os

import boto3
import pytest
from botocore.config import Config

URL = os.environ.get("KMS_EMULATOR_URL", "http://127.0.0.1:8080")
REGION = "eu-de"

# The built-in demo identities (src/auth/identities.rs) and what they may do:
# alice administers KMS in account 111122223333 (she creates the keys); bob and carol
# hold no KMS permission there and reach keys only through grants and key policies;
# dave is read-only there; erin administers account 444455556666, frank reads in it.
ALICE = ("DEMOALICEACCESSKEY01", "demo-alice-secret-key-0000000000000001", "arn:aws:iam::111122223333:user/alice")
BOB = ("DEMOBOBACCESSKEY0002", "demo-bob-secret-key-00000000000000002", "arn:aws:iam::111122223333:user/bob")
CAROL = ("DEMOCAROLACCESSKEY03", "demo-carol-secret-key-000000000000003", "arn:aws:iam::111122223333:user/carol")
DAVE = ("DEMODAVEACCESSKEY004", "demo-dave-secret-key-000000000000004", "arn:aws:iam::111122223333:user/dave")
ERIN = ("DEMOERINACCESSKEY005", "demo-erin-secret-key-000000000000005", "arn:aws:iam::444455556666:user/erin")
FRANK = ("DEMOFRANKACCESSKEY06", "demo-frank-secret-key-00000000000000006", "arn:aws:iam::444455556666:user/frank")


def client(who, **overrides):
    ak, sk, _ = who
    args = dict(
        endpoint_url=URL,
        region_name=REGION,
        aws_access_key_id=ak,
        aws_secret_access_key=sk,
        # A wrong answer must fail the test, not be retried into a slow pass.
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    args.update(overrides)
    return boto3.client("kms", **args)


@pytest.fixture
def alice():
    return client(ALICE)


@pytest.fixture
def bob():
    return client(BOB)


@pytest.fixture
def carol():
    return client(CAROL)


@pytest.fixture
def dave():
    return client(DAVE)


@pytest.fixture
def erin():
    return client(ERIN)


@pytest.fixture
def frank():
    return client(FRANK)


@pytest.fixture
def key(alice):
    return alice.create_key(Description="boto3 suite")["KeyMetadata"]
