using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Polly;
using Polly.Retry;
using PricingOptimizer.Json;

namespace PricingOptimizer.Client;

/// <summary>
/// The SDK's link to the API: the tenant's token (exchanged for the API key, renewed before it expires and after a
/// 401), and the bounds of every request: a total time (<see cref="PricingOptimizerClientOptions.MaxSendTime"/>) around
/// at most <see cref="PricingOptimizerClientOptions.MaxAttempts"/> tries, each within
/// <see cref="PricingOptimizerClientOptions.AttemptTimeout"/>, waiting as Retry-After says or with jittered backoff.
/// </summary>
internal sealed class ApiConnection : IDisposable
{
    /// <summary>The API's own JSON rules; what the SDK sends leaves out what it does not set.</summary>
    internal static readonly JsonSerializerOptions Json = new(Wire.Options) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private static readonly ResiliencePropertyKey<DateTimeOffset> Deadline = new("po.deadline");
    private readonly PricingOptimizerClientOptions options;
    private readonly TimeProvider time;
    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly ResiliencePipeline<HttpResponseMessage> pipeline;
    private readonly SemaphoreSlim tokenLock = new(1, 1);
    private string? token;
    private DateTimeOffset tokenUntil;
    private long retries;

    public ApiConnection(PricingOptimizerClientOptions options, HttpClient? http)
    {
        this.options = options;
        time = options.Time;
        if (http is null)
        {
            this.http = new HttpClient { BaseAddress = options.BaseAddress ?? throw new ArgumentException("set BaseAddress", nameof(options)) };
            ownsHttp = true;
        }
        else
        {
            this.http = http;
        }

        pipeline = BuildPipeline();
    }

    /// <summary>Tries that failed and were made again.</summary>
    public long Retries => Interlocked.Read(ref retries);

    /// <summary>Transient: no answer, or an answer that may change on its own (408, 429, 5xx).</summary>
    public static bool Transient(HttpStatusCode? status) => status is null or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
        || (int)status >= 500;

    /// <summary>Sends a request made by <paramref name="request"/> (with the token) within the bounds; the outcome is
    /// the last try's, or why it gave up.</summary>
    public async Task<Outcome<HttpResponseMessage>> SendAsync(Func<HttpRequestMessage> request, CancellationToken cancellationToken, Action? onTry = null)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(Deadline, time.GetUtcNow() + options.MaxSendTime);
            return await pipeline.ExecuteOutcomeAsync(static async (ctx, state) =>
            {
                try
                {
                    state.onTry?.Invoke();
                    using var message = state.request();
                    message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await state.self.TokenAsync(ctx.CancellationToken));
                    return Outcome.FromResult(await state.self.http.SendAsync(message, ctx.CancellationToken));
                }
                catch (Exception e)
                {
                    return Outcome.FromException<HttpResponseMessage>(e);
                }
            }, context, (self: this, request, onTry));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>A typed read: GET <paramref name="path"/> within the bounds.</summary>
    /// <exception cref="HttpRequestException">No answer within the bounds, or an answer that is not a success (its status and the API's detail).</exception>
    public async Task<(T Value, HttpResponseMessage Response)> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        var outcome = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);
        if (outcome.Exception is { } failed)
        {
            throw failed as HttpRequestException ?? (failed is OperationCanceledException && cancellationToken.IsCancellationRequested
                ? failed
                : new HttpRequestException($"GET /{path}: {failed.Message}", failed));
        }

        var response = outcome.Result!;
        try
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"GET /{path} answered {(int)response.StatusCode}: {await ProblemDetailAsync(response)}", null,
                    response.StatusCode);
            }

            var value = await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken) ?? throw new HttpRequestException($"GET /{path} answered nothing");
            return (value, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date > time.GetUtcNow() ? date - time.GetUtcNow() : TimeSpan.Zero,
        _ => null,
    };

    /// <summary>The problem+json's detail, else the reason phrase.</summary>
    public static async Task<string> ProblemDetailAsync(HttpResponseMessage response)
    {
        try
        {
            return (await response.Content.ReadFromJsonAsync<ProblemAnswer>(Json))?.Detail ?? response.ReasonPhrase ?? "";
        }
        catch (JsonException)
        {
            return response.ReasonPhrase ?? "";
        }
    }

    public void Dispose()
    {
        tokenLock.Dispose();
        if (ownsHttp)
        {
            http.Dispose();
        }
    }

    private ResiliencePipeline<HttpResponseMessage> BuildPipeline()
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddTimeout(options.MaxSendTime);
        if (options.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.AttemptNumber, args.Context)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response) : null),
                OnRetry = args =>
                {
                    Interlocked.Increment(ref retries);
                    if (args.Outcome.Result?.StatusCode == HttpStatusCode.Unauthorized)
                    {
                        tokenUntil = DateTimeOffset.MinValue; // renew, then try again
                    }

                    return default;
                },
            });
        }

        if (options.AttemptTimeout is { } attempt)
        {
            builder.AddTimeout(attempt);
        }

        return builder.Build();
    }

    private bool ShouldRetry(Outcome<HttpResponseMessage> outcome, int attemptNumber, ResilienceContext context) => outcome switch
    {
        { Exception: HttpRequestException e } => Transient(e.StatusCode),
        { Exception: Polly.Timeout.TimeoutRejectedException } => true, // one try took too long
        { Exception: OperationCanceledException } => !context.CancellationToken.IsCancellationRequested, // the HttpClient's own timeout
        { Exception: not null } => false,
        { Result.StatusCode: HttpStatusCode.Unauthorized } => attemptNumber == 0,
        { Result: { } response } when Transient(response.StatusCode) =>
            // Waiting longer than the time left would only end in the total timeout: give up now instead.
            RetryAfter(response) is not { } wait || time.GetUtcNow() + wait <= context.Properties.GetValue(Deadline, DateTimeOffset.MaxValue),
        _ => false,
    };

    /// <exception cref="HttpRequestException">The token request failed; its status says whether it may pass later.</exception>
    private async Task<string> TokenAsync(CancellationToken cancellationToken)
    {
        await tokenLock.WaitAsync(cancellationToken);
        try
        {
            if (token is not null && time.GetUtcNow() < tokenUntil)
            {
                return token;
            }

            using var response = await http.PostAsJsonAsync("v1/auth/token", new { api_key = options.ApiKey }, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"POST /v1/auth/token answered {(int)response.StatusCode}: {await ProblemDetailAsync(response)}", null,
                    response.StatusCode);
            }

            var answer = await response.Content.ReadFromJsonAsync<TokenAnswer>(Json,
                cancellationToken) ?? throw new HttpRequestException("no token in the answer");
            token = answer.AccessToken;
            tokenUntil = time.GetUtcNow().AddSeconds(Math.Max(30, answer.ExpiresIn - 60));
            return token;
        }
        finally
        {
            tokenLock.Release();
        }
    }

    private sealed record TokenAnswer(string AccessToken, int ExpiresIn);

    private sealed record ProblemAnswer(string? Detail);
}
