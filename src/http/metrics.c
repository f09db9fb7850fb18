/* GET /metrics: the daemon's metrics registry in the Prometheus text format. Needs an hr (or admin)
 * token like the rest of the API; docs/api.md says why, and how to configure Prometheus for it. */
#include "http_internal.h"

#include "attendd/metrics.h"

att_err http_metrics_get(struct http_request *req, struct http_response *resp)
{
    if (req->deps->metrics == NULL) return http_problem(resp, ATT_E_NOT_READY, NULL, "metrics are not set up");
    char *text;
    size_t len;
    att_err e = metrics_render(req->deps->metrics, &text, &len);
    if (e != ATT_OK) return http_problem(resp, e, NULL, "the metrics could not be rendered");
    http_response_clear(resp);
    resp->body = text;
    resp->body_len = len;
    resp->content_type = METRICS_CONTENT_TYPE;
    resp->status = MHD_HTTP_OK;
    return ATT_OK;
}
