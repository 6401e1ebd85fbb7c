using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PricingOptimizer.Tests.Fixtures;

/// <summary>
/// A local HTTP server on loopback standing in for a billing provider: it records every request and answers from a
/// script (status, Retry-After, body), then with <see cref="DefaultBody"/> and 200.
/// </summary>
public sealed class StubProvider : IAsyncDisposable
{
    public sealed record Request(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

    public sealed record Answer(int Status, string Body = "{}", int? RetryAfterSeconds = null, TimeSpan? Delay = null);

    private readonly WebApplication app;

    public ConcurrentQueue<Answer> Script { get; } = new();

    public ConcurrentQueue<Request> Requests { get; } = new();

    public string DefaultBody { get; set; } = "{}";

    public string Url { get; }

    private StubProvider(WebApplication app, string url)
    {
        this.app = app;
        Url = url;
    }

    public static async Task<StubProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        StubProvider? stub = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            stub!.Requests.Enqueue(new Request(context.Request.Method, context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));
            var answer = stub.Script.TryDequeue(out var scripted) ? scripted : new Answer(200, stub.DefaultBody);
            if (answer.Delay is { } delay)
            {
                try
                {
                    await Task.Delay(delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return; // the client gave up waiting
                }
            }
            context.Response.StatusCode = answer.Status;
            if (answer.RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Body);
        });
        await app.StartAsync();
        stub = new StubProvider(app, app.Urls.First());
        return stub;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
