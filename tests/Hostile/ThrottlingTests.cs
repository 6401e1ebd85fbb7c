using Microsoft.Extensions.Time.Testing;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Hostile;

/// <summary>The admin door and the rate limits on a fake clock: throttled guesses, no body read before the key, honest Retry-After.</summary>
public sealed class ThrottlingTests : IDisposable
{
    private const string AdminKey = "throttle-admin-key-0123456789";
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 26, 12, 0, 10, TimeSpan.Zero));
    private readonly IngestApiFactory api = new(new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey });
    private readonly WebApplicationFactory<Program> app;

    public ThrottlingTests() =>
        app = api.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(clock)));

    private HttpClient Admin(string key)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", key);
        return client;
    }

    [Fact]
    public async Task Ten_wrong_admin_keys_in_a_minute_lock_the_address_until_the_minute_ends_even_for_the_right_key()
    {
        using var wrong = Admin("guess");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/v1/admin/tenants")).StatusCode);
        }

        using var right = Admin(AdminKey);
        var locked = await right.GetAsync("/v1/admin/tenants");
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Equal("application/problem+json", locked.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(50), locked.Headers.RetryAfter!.Delta); // 12:00:10 → the window ends at 12:01:00

        clock.Advance(TimeSpan.FromMilliseconds(49_500));
        var stillLocked = await right.GetAsync("/v1/admin/tenants");
        Assert.Equal(HttpStatusCode.TooManyRequests, stillLocked.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), stillLocked.Headers.RetryAfter!.Delta);

        clock.Advance(TimeSpan.FromMilliseconds(1_000));
        Assert.Equal(HttpStatusCode.OK, (await right.GetAsync("/v1/admin/tenants")).StatusCode);
    }

    [Fact]
    public async Task A_wrong_admin_key_is_refused_before_the_body_is_read()
    {
        // The gate runs before routing binds any body: a body that fails when read proves it was not.
        var gate = new PricingOptimizer.IngestApi.AdminGate(Microsoft.Extensions.Options.Options.Create(new PricingOptimizer.Tenancy.AuthOptions { AdminKey = AdminKey }), clock);
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = app.Services };
        context.Request.Method = "POST";
        context.Request.Path = "/v1/admin/tenants";
        context.Request.Headers["X-Admin-Key"] = "guess";
        context.Request.Body = new EndlessStream { FailOnRead = true };
        context.Response.Body = new MemoryStream();
        var reachedEndpoint = false;
        await gate.InvokeAsync(context, _ =>
        {
            reachedEndpoint = true;
            return Task.CompletedTask;
        });
        Assert.Equal(401, context.Response.StatusCode);
        Assert.False(reachedEndpoint);
    }

    [Fact]
    public async Task Retry_after_is_the_seconds_until_the_window_resets()
    {
        var (_, _, client) = await api.CreateTenantAsync(AdminKey, "free co", "free");
        using var tenant = app.CreateClient();
        tenant.DefaultRequestHeaders.Authorization = client.DefaultRequestHeaders.Authorization;
        clock.SetUtcNow(new DateTimeOffset(2026, 11, 26, 12, 1, 0, TimeSpan.Zero)); // the start of a minute
        for (var i = 0; i < 60; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await tenant.GetAsync("/v1/experiments")).StatusCode);
        }

        clock.Advance(TimeSpan.FromMilliseconds(59_400));
        var limited = await tenant.GetAsync("/v1/experiments");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), limited.Headers.RetryAfter!.Delta); // 0.6 s left, rounded up: not 60
        Assert.Equal("0", limited.Headers.GetValues("X-RateLimit-Remaining").Single());

        clock.Advance(TimeSpan.FromMilliseconds(600));
        var next = await tenant.GetAsync("/v1/experiments");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("59", next.Headers.GetValues("X-RateLimit-Remaining").Single());

        clock.Advance(TimeSpan.FromSeconds(15));
        for (var i = 0; i < 59; i++)
        {
            await tenant.GetAsync("/v1/experiments");
        }

        var again = await tenant.GetAsync("/v1/experiments");
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(45), again.Headers.RetryAfter!.Delta);
        client.Dispose();
    }

    public void Dispose()
    {
        app.Dispose();
        api.Dispose();
    }

    /// <summary>A request body that never ends (reads block after 1 KiB), counting what the server pulled.</summary>
    private sealed class EndlessStream : Stream
    {
        public long Served { get; private set; }

        public bool FailOnRead { get; init; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Served; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Assert.False(FailOnRead, "the body of an unauthenticated admin request was read");
            if (Served >= 1024)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            buffer.Span[..Math.Min(buffer.Length, 1024)].Fill((byte)' ');
            var n = Math.Min(buffer.Length, 1024);
            Served += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
