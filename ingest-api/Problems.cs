using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using PricingOptimizer.Errors;

namespace PricingOptimizer.IngestApi;

/// <summary>
/// Every error answer of the API in one place: the engine's <see cref="ProblemException"/> kinds and ASP.NET Core's
/// request errors (unreadable JSON, a wrong JSON type, a body too large or too slow) become problem+json naming the
/// <c>field</c> to fix; <see cref="CustomizeProblemDetails"/> names a field for the answers that carry only a status
/// (an unknown route, a wrong method).
/// </summary>
internal sealed class Problems(IProblemDetailsService problemDetails, ILogger<Problems> logger, ControlPlane.ControlPlaneStatus status) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not ProblemException && status.Failed(exception))
        {
            exception = ControlPlaneOutage(exception);
        }

        if (context.Response.HasStarted || Describe(exception) is not { } problem)
        {
            return false;
        }

        if (exception is UnavailableException unavailable)
        {
            ApiLog.Unavailable(logger, context.Request.Path, unavailable.Message);
            context.Response.Headers.RetryAfter = Seconds(unavailable.RetryAfter);
        }

        context.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>The control plane's store could not answer (down, frozen past its timeout, locked): a 503 the caller retries.</summary>
    internal static UnavailableException ControlPlaneOutage(Exception fault) =>
        new($"the control plane is unavailable ({fault.GetBaseException().Message.Split('\n', 2)[0].TrimEnd('.')})", fault)
        {
            RetryAfter = ControlPlane.ControlPlaneFaults.RetryAfter,
            Component = "control_plane",
        };

    /// <summary>The problem for an exception a caller can act on; null for a fault of ours (a 500).</summary>
    internal static ProblemDetails? Describe(Exception exception)
    {
        var (status, title, field) = exception switch
        {
            InvalidInputException e => (400, "Invalid request", e.Field),
            UnauthorizedException e => (401, "Unauthorized", e.Field),
            NotFoundException e => (404, "Not found", e.Field),
            ConflictException e => (409, "Conflict", e.Field),
            PreconditionFailedException e => (412, "Precondition failed", e.Field),
            UnavailableException => (503, "Unavailable", null),
            BadHttpRequestException { InnerException: JsonException json } => (400, "Invalid request", JsonField(json)),
            BadHttpRequestException e when ParameterName(e.Message) is { } parameter => (e.StatusCode, "Invalid request", parameter),
            BadHttpRequestException e => (e.StatusCode, e.StatusCode switch
            {
                413 => "Request too large",
                415 => "Unsupported media type",
                408 => "Request body too slow",
                _ => "Invalid request",
            }, e.StatusCode == 415 ? "Content-Type" : "body"),
            _ => (0, "", null),
        };
        if (status == 0)
        {
            return null;
        }

        var problem = new ProblemDetails { Status = status, Title = title, Detail = Detail(exception) };
        if (field is not null)
        {
            problem.Extensions["field"] = field;
        }

        if (exception is ConflictException { Allowed: { } allowed })
        {
            problem.Extensions["allowed"] = allowed;
        }

        if (exception is UnavailableException { Component: { } component })
        {
            problem.Extensions["unavailable"] = component;
        }

        if (exception is PreconditionFailedException { CurrentETag: { } current })
        {
            problem.Extensions["current_etag"] = current;
        }

        return problem;
    }

    private static string Detail(Exception exception) => exception switch
    {
        BadHttpRequestException { InnerException: JsonException json } when JsonField(json) == "body" =>
            "the body is not valid JSON: " + json.Message,
        BadHttpRequestException { InnerException: JsonException json } =>
            $"{JsonField(json)} has the wrong JSON " +
                $"type{(json.Message.Contains("could not be converted to", StringComparison.Ordinal) ? " for " + TargetType(json.Message) : "")}",
        BadHttpRequestException e when ParameterName(e.Message) is { } parameter => $"{parameter} is not valid here: {e.Message}",
        BadHttpRequestException { StatusCode: 413 } => "the body is larger than this endpoint takes",
        BadHttpRequestException { StatusCode: 408 } => "the body did not arrive in time",
        UnavailableException e => e.Message + "; nothing was kept: send the same request again after Retry-After seconds",
        _ => exception.Message,
    };

    /// <summary>The JSON path of a type error (<c>variants[0].price</c>), or <c>body</c> for text that is not JSON at all.</summary>
    internal static string JsonField(JsonException json)
    {
        // A syntax error comes from the reader (its JsonReaderException is the inner one); a type error names its path.
        if (json.InnerException?.GetType().Name == "JsonReaderException" || json.Path is null or "$")
        {
            return "body";
        }

        return json.Path.StartsWith("$.", StringComparison.Ordinal) ? json.Path[2..] : json.Path.TrimStart('$');
    }

    /// <summary>The parameter a binding failure names (<c>Failed to bind parameter "int? limit" from "abc".</c> → <c>limit</c>).</summary>
    private static string? ParameterName(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, "parameter \"(?:[^\"]* )?(?<name>[A-Za-z_][A-Za-z0-9_]*)\"");
        return match.Success ? ToSnakeCase(match.Groups["name"].Value) : null;
    }

    private static string ToSnakeCase(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    private static string TargetType(string message)
    {
        var start = message.IndexOf("converted to ", StringComparison.Ordinal) + "converted to ".Length;
        var end = message.IndexOf('.', start);
        var type = end > start ? message[start..end] : message[start..];
        return type switch
        {
            _ when type.Contains("Decimal", StringComparison.Ordinal) || type.Contains("Double", StringComparison.Ordinal) => "a number",
            _ when type.Contains("String", StringComparison.Ordinal) => "a string",
            _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
            _ when type.Contains("List", StringComparison.Ordinal) => "an array",
            _ => "an object",
        };
    }

    internal static string Seconds(TimeSpan wait) =>
        Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Names a field on answers that carry only a status: what the caller would change to get past it.
    /// </summary>
    internal static void CustomizeProblemDetails(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Status == 429)
        {
            problem.Type ??= "https://tools.ietf.org/html/rfc6585#section-4";
        }

        if (problem.Status is not (>= 400 and < 500) || problem.Extensions.ContainsKey("field"))
        {
            return;
        }

        var field = problem.Status switch
        {
            401 or 403 or 429 => context.HttpContext.Request.Path.StartsWithSegments("/v1/admin") ? "X-Admin-Key" : "Authorization",
            404 or 409 => "path",
            405 => "method",
            415 => "Content-Type",
            _ => "body",
        };
        problem.Extensions["field"] = field;
        problem.Detail ??= problem.Status switch
        {
            404 => $"no route {context.HttpContext.Request.Path}",
            405 => $"{context.HttpContext.Request.Method} is not a method of {context.HttpContext.Request.Path}",
            401 => "send 'Authorization: Bearer {token}' with a token from POST /v1/auth/token",
            415 => "send the body as 'Content-Type: application/json'",
            _ => problem.Title,
        };
    }

    /// <summary>A 400 for an endpoint that needs a JSON body and got none (or <c>null</c>).</summary>
    public static InvalidInputException MissingBody(string fields) => new($"send a JSON body with {fields}", "body");
}
