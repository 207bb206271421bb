import pytest
from tests.integration import test_journey_lifecycle as t
from tests.integration.test_journey_lifecycle import store, clock  # noqa: F401 fixtures
pytestmark = pytest.mark.integration

@pytest.mark.parametrize("n", range(15))
def test_pub(n, store, graph, settings):
    t.test_concurrent_publications_leave_one_published(store, graph, settings)

@pytest.mark.parametrize("n", range(15))
def test_appr(n, store, graph, settings):
    t.test_concurrent_approvals_only_one_wins(store, graph, settings)
