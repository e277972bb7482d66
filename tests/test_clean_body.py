"""The retired body-cleaning pipeline: an old ITEM_PIPELINES still starts, and is told why."""

import pytest
from scrapy.exceptions import NotConfigured, ScrapyDeprecationWarning

from pipelines.clean_body import BodyCleaningPipeline, ThreadedBodyCleaningPipeline
from tests.conftest import build


@pytest.mark.parametrize("pipeline", [BodyCleaningPipeline, ThreadedBodyCleaningPipeline])
def test_retired_pipeline_disables_itself_with_a_deprecation_warning(pipeline):
    with (
        pytest.warns(ScrapyDeprecationWarning, match=r"remove it from ITEM_PIPELINES"),
        pytest.raises(NotConfigured, match="cleaned at extraction"),
    ):
        build(pipeline)
