import json

import pytest
from tornado.httpclient import HTTPClientError


async def test_schemas_answers_with_a_token(jp_fetch):
    response = await jp_fetch("jupyter-events-ext", "schemas")

    assert response.code == 200
    assert json.loads(response.body) == {"schemas": []}


async def test_schemas_refuses_without_a_token(jp_fetch):
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("jupyter-events-ext", "schemas", headers={"Authorization": ""})

    assert error.value.code == 403
