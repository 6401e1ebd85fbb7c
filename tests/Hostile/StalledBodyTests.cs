using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Hostile;

/// <summary>
/// A client that promises a body and then stalls, over a real socket to Kestrel (the in-memory test server has no
/// data rates). Kestrel's minimum body data rate is lowered to a 1.5 s grace (the least it takes) so the test waits about three seconds of
/// real time; the assertion is on the answer, not on the time.
/// </summary>
public sealed class StalledBodyTests : IDisposable
{
    private const string Admin = "stall-admin";
    private readonly IngestApiFactory api = new(new Dictionary<string, string?> { ["Auth:AdminKey"] = Admin });

    [Theory]
    [InlineData("/v1/events", true)]
    [InlineData("/v1/experiments", true)]
    [InlineData("/v1/admin/tenants", false)]
    public async Task A_stalled_body_is_a_408_problem_naming_the_body_and_the_api_keeps_serving(string path, bool tenant)
    {
        var (_, _, client) = await api.CreateTenantAsync(Admin, "Stall", "enterprise");
        var authorization = tenant ? client.DefaultRequestHeaders.Authorization!.ToString() : null;
        using var kestrel = api.WithWebHostBuilder(b => b.ConfigureKestrel(k =>
            k.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 100, gracePeriod: TimeSpan.FromSeconds(1.5))));
        kestrel.UseKestrel(0);
        kestrel.StartServer();
        var address = kestrel.ClientOptions.BaseAddress;

        using var socket = new TcpClient();
        await socket.ConnectAsync(address.Host, address.Port);
        var stream = socket.GetStream();
        var auth = authorization is null ? $"X-Admin-Key: {Admin}\r\n" : $"Authorization: {authorization}\r\n";
        var head = $"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\n{auth}Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{{\"eve";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        // ... and nothing more: the rest of the 5,000 promised bytes never comes.

        var answer = await ReadResponseAsync(stream);
        Assert.StartsWith("HTTP/1.1 408", answer.Head, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", answer.Head, StringComparison.OrdinalIgnoreCase);
        using var problem = JsonDocument.Parse(answer.Body);
        Assert.Equal(408, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("body", problem.RootElement.GetProperty("field").GetString());

        // The stalled client cost nothing lasting: the same server answers the next request.
        using var after = kestrel.CreateClient();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await after.GetAsync("/healthz")).StatusCode);
    }

    private static async Task<(string Head, string Body)> ReadResponseAsync(NetworkStream stream)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // a hang guard, not a timing assertion
        while (true)
        {
            var read = await stream.ReadAsync(chunk, limit.Token);
            if (read == 0)
            {
                break;
            }

            buffer.Write(chunk, 0, read);
            var text = Encoding.UTF8.GetString(buffer.ToArray());
            var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (split < 0)
            {
                continue;
            }

            var head = text[..split];
            var length = head.Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length",
                StringComparison.OrdinalIgnoreCase))
                .Select(p => int.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault(-1);
            var body = text[(split + 4)..];
            if (length >= 0 && Encoding.UTF8.GetByteCount(body) >= length)
            {
                return (head, body);
            }
        }

        var all = Encoding.UTF8.GetString(buffer.ToArray());
        var at = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return at < 0 ? (all, "") : (all[..at], DechunkIfNeeded(all[(at + 4)..]));
    }

    /// <summary>A chunked body read to the end of the connection: the chunks joined.</summary>
    private static string DechunkIfNeeded(string body)
    {
        if (body.TrimStart().StartsWith('{'))
        {
            return body;
        }

        var result = new StringBuilder();
        var rest = body;
        while (rest.IndexOf("\r\n", StringComparison.Ordinal) is var line and > 0)
        {
            var size = Convert.ToInt32(rest[..line], 16);
            if (size == 0)
            {
                break;
            }

            result.Append(rest.AsSpan(line + 2, size));
            rest = rest[(line + 2 + size + 2)..];
        }

        return result.ToString();
    }

    public void Dispose() => api.Dispose();
}
