using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;

namespace PricingOptimizer.Tests.Fixtures;

/// <summary>
/// A long-running program of the solution (the API, <c>po land</c>) as its own OS process, the way an operator runs
/// it: <c>dotnet X.dll</c> with environment variables for configuration, its output kept, killed on dispose.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process process;

    public ConcurrentQueue<string> Output { get; } = new();

    private ServiceProcess(string dll, IDictionary<string, string> environment, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            Output.Enqueue(line);
        }
    }

    public bool HasExited => process.HasExited;

    /// <summary>The ingest API on a free loopback port; <see cref="BaseAddress"/> once it answers <c>/readyz</c>.</summary>
    public static async Task<ServiceProcess> StartApiAsync(IDictionary<string, string> environment)
    {
        var port = FreePort();
        var api = new ServiceProcess("PricingOptimizer.IngestApi.dll", new Dictionary<string, string>(environment)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
        }, []) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var client = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var guard = Stopwatch.StartNew();
        while (guard.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (api.HasExited)
            {
                throw new InvalidOperationException("the API exited at start: " + string.Join('\n', api.Output));
            }

            try
            {
                if ((await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK)
                {
                    return api;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        api.Dispose();
        throw new TimeoutException("the API was not ready in 60 s: " + string.Join('\n', api.Output));
    }

    /// <summary><c>po</c> with <paramref name="args"/> (a worker such as <c>land</c>).</summary>
    public static ServiceProcess StartPo(IDictionary<string, string> environment, params string[] args) => new("po.dll", environment, args);

    public Uri? BaseAddress { get; private init; }

    /// <summary>
    /// A tenant created through this API's admin endpoint (<paramref name="adminKey"/> is its Auth:AdminKey) and a client
    /// carrying the tenant's token from <c>POST /v1/auth/token</c>, as an integrator would hold them.
    /// </summary>
    public async Task<(string ApiKey, HttpClient Client)> CreateTenantAsync(string adminKey, string name, string plan)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        using var admin = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/tenants") { Content = JsonContent.Create(new { name, plan }) };
        admin.Headers.Add("X-Admin-Key", adminKey);
        var created = await client.SendAsync(admin);
        created.EnsureSuccessStatusCode();
        var apiKey = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("api_key").GetString()!;
        var token = await (await client.PostAsJsonAsync("/v1/auth/token", new { api_key = apiKey })).Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            token.GetProperty("access_token").GetString());
        return (apiKey, client);
    }

    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }

        process.Dispose();
    }
}
